/*
 * transform/transform_int.h
 *   Internals shared by the transform's own files (survey.c collects a
 *   record's fields while parsing; record.c types them; json_text.c writes
 *   JSON text). Private to transform/: no other folder includes it.
 */
#ifndef WVETL_TRANSFORM_INT_H
#define WVETL_TRANSFORM_INT_H

#include "common/buf.h"
#include "common/etl.h"
#include "common/record.h"
#include "transform/transform.h"

typedef enum FieldKind
{
	FK_STRING = 0,				/* decoded string bytes (U+0000 already removed),
								 * or the text of a number numeric cannot hold */
	FK_NULL,					/* JSON null; value bytes "null" */
	FK_SCALAR,					/* number or boolean: its JSON text */
	FK_NESTED					/* object or array: compact JSON text */
} FieldKind;

/* One key/value of the record being parsed; bytes live in the arena. */
typedef struct RawField
{
	size_t		key_off;
	size_t		key_len;
	size_t		val_off;
	size_t		val_len;
	FieldKind	kind;
	unsigned	cleaned;		/* TEXT_* flags of the key and value strings */
	bool		is_protected;	/* privacy_apply replaced the value */
	/* want_raw: where the key (its ',' included) and the value start in
	 * the record as sent (Transform.sent) */
	size_t		sent_key_off;
	size_t		sent_val_off;
} RawField;

/* A q<N> answer before sorting and de-duplication. */
typedef struct AnswerSlot
{
	int32_t		question_no;
	uint32_t	order;			/* position in the record: the later wins */
	bool		answered;		/* false: placeholder or null */
	EtlStr		text;
} AnswerSlot;

/*
 * RecordScratch: everything one record needs, reused from record to record
 * so that the steady state allocates nothing. Owned by the Transform.
 */
typedef struct RecordScratch
{
	Buf			arena;			/* key and value bytes */
	RawField   *fields;
	size_t		n_fields;
	size_t		cap_fields;
	AnswerSlot *slots;
	SurveyAnswer *answers;
	size_t		cap_answers;
	Buf			extras;
	Buf			raw;
	Buf			reason;			/* a reject's reason */
	Buf			nul_keys;		/* JSON strings of keys for _nul_removed */
	Buf			bad_keys;		/* ... for _invalid_unicode_replaced */
	Buf			num_keys;		/* ... for _numbers_as_text */
} RecordScratch;

typedef enum RecordVerdict
{
	RECORD_OK = 0,				/* rec is filled */
	RECORD_REJECT,				/* scratch->raw and scratch->reason are filled */
	RECORD_NOMEM
} RecordVerdict;

/* record.c */
RawField   *record_scratch_add(RecordScratch *rs);
void		record_scratch_reset(RecordScratch *rs);
void		record_scratch_free(RecordScratch *rs);
RecordVerdict record_type(RecordScratch *rs, uint64_t seq, bool want_raw,
						  SurveyRecord *rec);
bool		record_build_raw(RecordScratch *rs);
bool		record_in_window(RecordScratch *rs, const SurveyRecord *rec, int64_t from,
							 int64_t to);

/* privacy.c */
bool		privacy_apply(RecordScratch *rs, const TransformPrivacy *p);

/* json_text.c */
bool		json_append_string(Buf *b, const char *s, size_t n);
void		json_append_string_as_sent(Buf *b, const char *s, size_t n);
void		json_append_value(Buf *b, const RecordScratch *rs, const RawField *f);
size_t		json_escape_extra(const char *s, size_t n);

/* What text_clean changed in a string. */
#define TEXT_NUL_REMOVED 1		/* U+0000 dropped */
#define TEXT_UTF8_REPLACED 2	/* ill-formed UTF-8 replaced with U+FFFD */
#define TEXT_NUMBER_AS_TEXT 4	/* a number numeric cannot hold, made a string */
size_t		text_clean_scan(const char *s, size_t n);
unsigned	text_clean(Buf *b, const char *s, size_t n);
size_t		utf8_prefix(const char *s, size_t n, size_t max);

#endif							/* WVETL_TRANSFORM_INT_H */
