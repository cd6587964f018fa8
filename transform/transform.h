/*
 * transform/transform.h
 *   Streams a diagram_4 answer body through yajl's SAX parser as it arrives
 *   and hands each record, typed, to a sink. Never holds the whole body:
 *   memory is bounded by one record (and the configured field limits), and
 *   a body is read no further than the records it holds and a bounded
 *   envelope.
 *
 *   Accepted bodies: the envelope {"code":..,"error":..,"msg":..,"data":X}
 *   with X an array of records, a single record object, null or missing;
 *   also a bare top-level array of records (a replayed data array).
 *
 *   Pure: never logs. Errors are returned as text (transform_error).
 */
#ifndef WVETL_TRANSFORM_H
#define WVETL_TRANSFORM_H

#include "common/etl.h"
#include "common/record.h"

/*
 * RecordSink: receives each typed record. rec and everything it points to
 * are borrowed for the duration of the call. Return false to stop the
 * transform; the sink keeps its own reason (transform_feed then returns
 * false and transform_sink_stopped() is true).
 */
typedef bool (*RecordSink) (void *ctx, const SurveyRecord *rec);

/*
 * RejectSink: receives a record that cannot be loaded (no readable `date`,
 * or a date outside the window the body answers), as compact re-serialized JSON plus a one-line reason. Borrowed, as above.
 */
typedef bool (*RejectSink) (void *ctx, const char *raw, size_t raw_len,
							const char *reason, uint64_t seq);

/*
 * TransformPrivacy: personal data protection, applied to every record
 * before any sink sees it. mode[f] for f = SF_ANI, SF_CUSTOMER_ID,
 * SF_AGENT_DNI (every other field is always kept). The value of a record
 * key that names one of them (in any case: "ani", "ANI") becomes, with
 * PRIVACY_HASH, "hmac:" and the 64 hex digits of HMAC-SHA256(key, value),
 * value being the text the column would hold; with PRIVACY_DROP, null.
 * Placeholders and nulls stay as they are, and a value that already has
 * the "hmac:" form is kept, so a body written with protected values gives
 * the same record again. Everything built from the record holds the
 * protected value: its columns, extras, a reject's raw text, raw (want_raw).
 * key is borrowed for the transform's life.
 */
typedef struct TransformPrivacy
{
	PrivacyMode mode[SF_COUNT];
	const unsigned char *key;	/* HMAC key; needed when a mode is PRIVACY_HASH */
	size_t		key_len;
} TransformPrivacy;

/* "hmac:" + 64 hex digits */
#define TRANSFORM_HASH_PREFIX "hmac:"
#define TRANSFORM_HASH_LEN (5 + 64)

typedef struct TransformOptions
{
	bool		want_raw;		/* fill rec->raw for every record */
	size_t		max_field_bytes;	/* one value; 0 = default 1 MiB */
	size_t		max_record_bytes;	/* one record (keys and values as JSON
									 * text, plus the arrays' bytes per key),
									 * the record as sent, and the envelope
									 * outside the records; 0 = default 4 MiB */
	int			max_depth;		/* JSON nesting; 0 = default 32 */
	/* The window the body answers, [window_from, window_to) in epoch
	 * seconds: a record dated outside it is rejected ("date ... is outside
	 * the window ..."). Both 0: no check. */
	int64_t		window_from;
	int64_t		window_to;
	TransformPrivacy privacy;	/* all PRIVACY_KEEP (zero): no change */
} TransformOptions;

typedef enum EnvelopeData
{
	ENV_DATA_MISSING = 0,
	ENV_DATA_NULL,
	ENV_DATA_ARRAY,
	ENV_DATA_OBJECT,
	ENV_DATA_OTHER				/* a scalar where records were expected */
} EnvelopeData;

typedef struct TransformEnvelope
{
	bool		has_code;
	char		code[64];		/* as sent: number digits or string text */
	char		msg[512];		/* truncated to fit; NUL-terminated */
	char		error[512];
	EnvelopeData data;
	uint64_t	records;		/* records handed to the record sink */
	uint64_t	rejects;		/* records handed to the reject sink */
	uint64_t	outside;		/* of the rejects: dated outside the window */
} TransformEnvelope;

typedef struct Transform Transform;

/* Returns NULL only when out of memory. opt may be NULL (defaults). */
Transform  *transform_new(const TransformOptions *opt,
						  RecordSink on_record, RejectSink on_reject, void *ctx);

/* Feed the next chunk (any size, any boundary). false: stop; see
 * transform_error() / transform_sink_stopped(). */
bool		transform_feed(Transform *t, const char *data, size_t len);

/* End of body: completes the parse (catches truncation). */
bool		transform_finish(Transform *t);

/* After a false return: a one-line message, e.g.
 * "invalid JSON at byte 1234: unallowed token (expected a value)". */
const char *transform_error(const Transform *t);
bool		transform_sink_stopped(const Transform *t);

const TransformEnvelope *transform_envelope(const Transform *t);
uint64_t	transform_bytes(const Transform *t);	/* bytes fed so far */

void		transform_free(Transform *t);

/* Pure helpers, exposed for unit tests. */

/* True when s is a placeholder: "", "-", "--" or only blanks. */
bool		transform_is_placeholder(const char *s, size_t n);
/* q<N> key (any case, N positive, leading zeros allowed) -> N; else -1. */
int32_t		transform_question_no(const char *key, size_t n);
/* "[H]H:MM:SS", "MM:SS" or plain seconds -> seconds; false if not one. */
bool		transform_parse_duration(const char *s, size_t n, int32_t *out);
/* A plain decimal number ("-3", "4.5", "+2")? (answer_num) */
bool		transform_is_decimal(const char *s, size_t n);
/* Can PostgreSQL numeric (and jsonb) hold the JSON number s? A number it
 * cannot hold (1e200000) goes on as a JSON string of its text. */
bool		transform_number_fits_numeric(const char *s, size_t n);
/* True when some mode of p is not PRIVACY_KEEP. */
bool		transform_privacy_active(const TransformPrivacy *p);
/* "hmac:" + hex HMAC-SHA256(key, s[0..n)) into out, NUL-terminated. */
void		transform_privacy_hash(const unsigned char *key, size_t key_len,
								   const char *s, size_t n,
								   char out[TRANSFORM_HASH_LEN + 1]);
/* True when s has the form transform_privacy_hash writes. */
bool		transform_is_protected(const char *s, size_t n);

#endif							/* WVETL_TRANSFORM_H */
