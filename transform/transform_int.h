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

typedef enum FieldKind
{
	FK_STRING = 0,				/* decoded string bytes (U+0000 already removed) */
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
	bool		nul_removed;	/* U+0000 was dropped from the key or value */
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

/* json_text.c */
bool		json_append_string(Buf *b, const char *s, size_t n);
void		json_append_value(Buf *b, const RecordScratch *rs, const RawField *f);
size_t		json_copy_without_nul(Buf *b, const char *s, size_t n);
size_t		utf8_prefix(const char *s, size_t n, size_t max);

#endif							/* WVETL_TRANSFORM_INT_H */
