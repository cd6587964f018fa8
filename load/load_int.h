/*
 * load/load_int.h
 *   Private to load/: the Loader structure and the helpers its files share
 *   (libpq plumbing in pg.c, COPY rows in copy_binary.c and copy_text.c,
 *   spools in spool.c, the identity hash in identity.c). Nothing outside
 *   load/ includes this.
 */
#ifndef WVETL_LOAD_INT_H
#define WVETL_LOAD_INT_H

#include <signal.h>
#include <stdio.h>

#include <glib.h>
#include <libpq-fe.h>
#include <xxhash.h>

#include "common/buf.h"
#include "load/load.h"

/* The COPY targets a window feeds. */
typedef enum CopyTargetId
{
	TARGET_RESPONSE = 0,		/* survey_response (fast) or its stage (merge) */
	TARGET_ANSWER,				/* survey_answer (fast) or its stage (merge) */
	TARGET_REJECT,				/* always staged */
	TARGET_DUP_RESPONSE,		/* fast: records whose id the window may hold */
	TARGET_DUP_ANSWER,			/* already: staged, merged at commit */
	TARGET_COUNT,
	TARGET_NONE = -1
} CopyTargetId;

/* The response_ids a LOAD_FAST window has sent, as a Bloom filter of a
 * fixed size; see idset.c. All zero is an empty set. */
typedef struct IdSet
{
	uint8_t    *bits;			/* IDSET_BYTES, allocated at the first add */
	size_t		count;			/* ids answered "new" */
	bool		failed;			/* no memory: every answer is "seen" */
} IdSet;

/* The dimensions folded client-side (dimensions.c). */
typedef enum DimKind
{
	DIM_AGENT = 0,
	DIM_SKILL,
	DIM_COUNT
} DimKind;

#define DIM_CAP_DEFAULT 20000	/* ids per dimension and window */

typedef struct DimSet
{
	GHashTable *map;			/* id (owned string) -> entry */
	bool		overflow;		/* over dim_cap ids: folded in SQL instead */
} DimSet;

/* The rollup deltas of a LOAD_FAST window's records, folded as they
 * stream (rollup.c). */
#define ROLL_CAP_DEFAULT 200000	/* cells + values per window */

typedef struct RollFold
{
	GHashTable *cells;			/* RollCell -> itself (owned) */
	GHashTable *values;			/* RollValue -> itself (owned) */
	size_t		entries;		/* cells + values */
	uint64_t	folded;			/* records folded whole */
	bool		overflow;		/* over roll_cap, or another zone: rows read
								 * back in SQL at commit instead */
	bool		pending;		/* deltas are waiting to be applied */
	bool		jit_off;		/* JIT is off for the window's transaction */
} RollFold;

/* COPY rows waiting in an unlinked temporary file (spool.c). */
typedef struct Spool
{
	FILE	   *f;				/* NULL until the first write */
	uint64_t	bytes;			/* written since the last reset */
} Spool;

/* Rows waiting to be sent to one target (whole rows only). */
typedef struct CopyTarget
{
	Buf			buf;
	uint64_t	rows;			/* rows added in the open window */
} CopyTarget;

/* The server's kind, chosen once at connect (database.citus); dialect.c
 * holds the statements that differ. */
typedef enum Dialect
{
	DIALECT_POSTGRES = 0,
	DIALECT_CITUS,
	DIALECT_COUNT
} Dialect;

struct Loader
{
	PGconn	   *conn;
	Dialect		dialect;
	char	   *schema;			/* owned copies of LoadOptions */
	char	   *operation;
	size_t		operation_len;
	char	   *timezone;
	char	   *report;
	char	   *privacy[LOAD_PRIVACY_COLS];	/* NULL: not known (not recorded) */
	int64_t		run_id;			/* 0 until loader_run_begin */
	bool		locked;			/* holds the operation's advisory lock */
	bool		stage_ready;	/* temp staging tables exist in the session */

	/* the open window */
	bool		in_window;
	bool		failed;			/* a step failed (logged): only abort is left */
	bool		conflict;		/* LOAD_FAST met a loaded identity */
	LoadMode	mode;
	int64_t		win_from;
	int64_t		win_to;
	CopyTargetId active;		/* the COPY in progress, or TARGET_NONE */
	CopyTarget	target[TARGET_COUNT];
	uint64_t	seq;			/* arrival order of records and rejects */
	IdSet		ids;			/* ids the window sent (LOAD_FAST: to the final
								 * tables) */
	uint64_t	maybe_repeats;	/* LOAD_MERGE: ids ids may have seen before */
	int64_t		id_min;			/* the window's lowest and highest response_id */
	int64_t		id_max;
	Spool		response_spool; /* the window's response rows past the first
								 * batch, COPYed last (window.c) */
	Spool		reject_spool;	/* this window's reject rows (COPY text), kept
								 * so they survive a rolled-back window */
	uint64_t	spooled_rejects;
	Buf			op_field;		/* operation, as a binary COPY field */
	GChecksum  *md5;			/* reused by the identity hash */
	XXH3_state_t *content;		/* reused by the content hash (copy_binary.c) */
	DimSet		dims[DIM_COUNT];	/* the open window's agents and skills */
	size_t		dim_cap;		/* DIM_CAP_DEFAULT; tests lower it */
	Buf			dim_key;		/* scratch: an id, NUL-terminated */
	RollFold	roll;			/* the open window's rollup deltas */
	size_t		roll_cap;		/* ROLL_CAP_DEFAULT; tests lower it */
};

/* pg.c --------------------------------------------------------------------*/

/* What ended a COPY: done, a unique violation (when asked to tolerate it),
 * or any other failure (logged). */
typedef enum PgCopyStatus
{
	PG_COPY_OK = 0,
	PG_COPY_UNIQUE,
	PG_COPY_FAILED
} PgCopyStatus;

/* Every wait for the server watches *flag (set by a SIGINT/SIGTERM
 * handler): the statement in flight is cancelled, see pg.c. NULL: none. */
void		pg_watch_stop(const volatile sig_atomic_t *flag);
/* Whether that flag is set. */
bool		pg_stop_requested(void);
PGconn	   *pg_connect(const char *conninfo);
void		pg_log_conn_error(PGconn *conn, const char *what);
void		pg_log_result_error(const PGresult *res, const char *what);
PGresult   *pg_query(PGconn *conn, const char *what, const char *sql,
					 int nparams, const char *const *params);
bool		pg_command(PGconn *conn, const char *what, const char *sql,
					   int nparams, const char *const *params);
bool		pg_query_int64(PGconn *conn, const char *what, const char *sql,
						   int nparams, const char *const *params,
						   int64_t *out, bool *isnull);
bool		pg_copy_start(PGconn *conn, const char *what, const char *sql);
bool		pg_copy_send(PGconn *conn, const char *what, const char *data, size_t len);
PgCopyStatus pg_copy_finish(PGconn *conn, const char *what, const char *abort_reason,
							bool unique_ok);
void		pg_drain(PGconn *conn);
char	   *pg_quote_ident(PGconn *conn, const char *name);

/* dialect.c ---------------------------------------------------------------*/

/* The statements whose text differs between the dialects. */
typedef enum DialectSqlId
{
	SQL_MERGE_UPSERT_DIFF = 0,
	SQL_CHANGED_ANSWERS_DELETE,
	SQL_CHANGED_ANSWERS_INSERT,
	SQL_MERGE_ANSWERS_DIFF,
	SQL_REJECT_RESOLVE,
	SQL_FREE_ID,
	SQL_REMAP_PROBED,
	SQL_ID_COUNT
} DialectSqlId;

const char *dialect_sql(const Loader *l, DialectSqlId id);
bool		dialect_unique_violation(const PGresult *res);
bool		dialect_exec_script(Loader *l, const char *what, const char *text);
bool		dialect_session_setup(Loader *l);
bool		dialect_merge_setup(Loader *l);

/* sql_split.c -------------------------------------------------------------*/

/* The next statement of the script s from *pos: [*start, *start + *len),
 * without its ';' nor the blanks and comments before it; *pos moves past
 * it. False when only blanks and comments are left. */
bool		sql_split_next(const char *s, size_t *pos, size_t *start, size_t *len);

/* copy_text.c -------------------------------------------------------------*/

#define INT_DECIMAL_MAX 24		/* bytes int_to_decimal needs */
const char *int_to_decimal(char tmp[INT_DECIMAL_MAX], int64_t v, size_t *len);
void		copy_text_int(Buf *out, int64_t v);

/* copy_binary.c -----------------------------------------------------------*/

/* The column lists the row builders write, in order. */
#define COPY_RESPONSE_COLS \
	"response_id, operation, conn_id, agent_id, agent_name, agent_dni, " \
	"skill_id, skill_name, answered_at, ani, customer_id, " \
	"voice_message_duration_s, type_interaction, result, duration_s, " \
	"voice_message, feeling, extras, run_id, content_hash"
#define COPY_RESPONSE_NCOLS 20
#define COPY_ANSWER_COLS "response_id, question_no, answer_text, answer_num"

/* Digits a decimal may have (PostgreSQL numeric's: before + after the
 * point; transform_is_decimal keeps to them). */
#define NUMERIC_BIN_MAX_DIGITS (131072 + 16383)

#define COPY_BINARY_HEADER_LEN 19
extern const char copy_binary_header[COPY_BINARY_HEADER_LEN];
extern const char copy_binary_trailer[2];

void		copy_binary_text_field(Buf *b, EtlStr value);
void		copy_binary_numeric(Buf *b, EtlStr decimal);
void		copy_row_response(Buf *b, int64_t id, const char *op_field,
							  size_t op_field_len, const SurveyRecord *rec,
							  int64_t run_id, int64_t seq, XXH3_state_t *h);
void		copy_row_answers(Buf *b, int64_t id, const SurveyRecord *rec, int64_t seq,
							 XXH3_state_t *h);

/* spool.c -----------------------------------------------------------------*/

bool		spool_write(Spool *s, const char *what, const char *data, size_t len);
bool		spool_send(Spool *s, PGconn *conn, const char *what);
void		spool_reset(Spool *s);
void		spool_free(Spool *s);

/* identity.c --------------------------------------------------------------*/

/* A response_id is (epoch second << IDENTITY_HASH_BITS) | hash bits. */
#define IDENTITY_HASH_BITS	31

int64_t		identity_response_id(GChecksum *md5, const char *operation,
								 size_t operation_len, const SurveyRecord *rec);

/* collision.c -------------------------------------------------------------*/

/* *any: etl_id_probe holds an id of the operation whose base id lies in
 * the window's range [id_min, id_max]. */
bool		collision_probes_in_range(Loader *l, bool *any);
/*
 * merge_stage (merge.c): merge the window's stage into the tables. c->records
 * is the window's record count, staged of them in the stage (all in
 * LOAD_MERGE), the rest fast-loaded (new rows). Fills inserted, updated and
 * duplicates. Never refuses the window for an id two identities share
 * (resolved by collision.c). False on failure (logged).
 */
bool		merge_stage(Loader *l, LoadCounts *c, uint64_t staged);

/* Before a merge: staged identities stored before under a probed id take
 * that id again (their answers too). */
bool		collision_remap(Loader *l);
/* When the merge met a collision (rolled back to its savepoint): every
 * staged identity whose id another identity holds (stored, or earlier in
 * the answer) takes the next free id of its second, remembered in
 * etl_id_probe. */
bool		collision_resolve(Loader *l);

/* idset.c -----------------------------------------------------------------*/

bool		idset_add(IdSet *s, int64_t id);
void		idset_reset(IdSet *s);
void		idset_free(IdSet *s);

/* state.c -----------------------------------------------------------------*/

/* The advisory lock key of an operation: one lock per schema and
 * operation; s and o are the SQL parameters ("$1") holding them. */
#define LOCK_KEY_SQL_P(s, o) "pg_catalog.hashtextextended('wvetl/' || " s " || '/' || " o ", 0)"

/* The backend pid of the session holding that lock, no row when none
 * does. pg_locks shows a bigint key as classid (high 32 bits), objid (low
 * 32 bits) and objsubid 1. */
#define LOCK_HOLDER_SQL_P(s, o) \
	"SELECT pid FROM pg_locks, (SELECT " LOCK_KEY_SQL_P(s, o) " AS k) key" \
	" WHERE locktype = 'advisory' AND granted" \
	"  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())" \
	"  AND classid::bigint = (key.k >> 32) & 4294967295" \
	"  AND objid::bigint = key.k & 4294967295 AND objsubid = 1"


/* Release the operation's lock (loader_free, before closing). */
void		state_unlock(Loader *l);
bool		state_window_bookkeeping(Loader *l, int64_t new_watermark,
									 const LoadCounts *c);

/* The open transaction's now(), as text, for statements that compare a
 * row's load time with it: on Citus such a comparison runs on the workers,
 * whose now() is their own transaction's. False on failure (logged). */
#define TX_TIME_LEN 64
bool		state_tx_time(Loader *l, char out[TX_TIME_LEN]);

/* access.c ----------------------------------------------------------------*/

bool		access_refresh(Loader *l);

/* dimensions.c ------------------------------------------------------------*/

bool		dims_init(Loader *l);
void		dims_reset(Loader *l);
void		dims_free(Loader *l);
void		dims_add(Loader *l, const SurveyRecord *rec);
bool		dimensions_update(Loader *l, uint64_t written);

/* rollup.c ----------------------------------------------------------------*/

bool		rollup_init(Loader *l);
void		rollup_reset(Loader *l);
void		rollup_free(Loader *l);
bool		rollup_prepare(Loader *l);
void		rollup_add(Loader *l, const SurveyRecord *rec);
bool		rollup_fast_deltas(Loader *l, uint64_t folded);
bool		rollup_merge_deltas(Loader *l, bool changed);
bool		rollup_changed_deltas(Loader *l);
bool		rollup_apply(Loader *l);

#endif							/* WVETL_LOAD_INT_H */
