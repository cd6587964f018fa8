/*
 * load/load.h
 *   The warehouse side: schema migrations, the per-operation lock, run and
 *   window bookkeeping, and the streaming of typed records into PostgreSQL
 *   with COPY, one transaction per window.
 *
 *   A window is loaded in one of two modes:
 *     LOAD_FAST  - COPY straight into survey_response / survey_answer. Used
 *                  when no loaded window overlaps: data new to the warehouse
 *                  pays no merge. A record repeating an identity of the same
 *                  answer is staged and merged over the first at commit, in
 *                  the same transaction (later wins, counted as a
 *                  duplicate). If an identity loaded by another window
 *                  exists after all (unique violation), commit reports
 *                  WINDOW_CONFLICT, the transaction is rolled back, and the
 *                  caller loads the window again in LOAD_MERGE.
 *     LOAD_MERGE - COPY into temporary staging tables, then merge on
 *                  identity: later duplicates win (and are counted),
 *                  existing responses are updated, their answers replaced.
 *   Records, rejects, the etl_window row and the watermark commit together.
 *
 *   I/O layer: logs errors once where they happen (with SQLSTATE) and
 *   returns false; callers don't log them again.
 */
#ifndef WVETL_LOAD_H
#define WVETL_LOAD_H

#include <signal.h>
#include <stdio.h>

#include "common/etl.h"
#include "common/record.h"

/* The personal columns privacy.* protects, in LoadOptions.privacy order. */
#define LOAD_PRIVACY_COLS 3

typedef struct LoadOptions
{
	const char *conninfo;		/* libpq string or URI; "" = PG* env */
	const char *schema;			/* warehouse schema, e.g. wolkvox */
	const char *operation;		/* stored in every row */
	const char *timezone;		/* recorded per operation in etl_state */
	const char *report;			/* diagram_4 */
	double		lock_timeout_s; /* longest wait for a table lock; 0: no limit */
	const volatile sig_atomic_t *stop;	/* set on SIGINT/SIGTERM: cancel */
	bool		citus;			/* database.citus: a Citus coordinator */
	/* privacy.ani, privacy.customer_id, privacy.agent_dni ("keep", "hash",
	 * "drop"): recorded per operation in etl_state by its first window */
	const char *privacy[LOAD_PRIVACY_COLS];
} LoadOptions;

typedef struct Loader Loader;

typedef enum LoadMode
{
	LOAD_FAST = 0,
	LOAD_MERGE
} LoadMode;

typedef enum WindowResult
{
	WINDOW_COMMITTED = 0,
	WINDOW_CONFLICT,			/* LOAD_FAST hit an existing identity: rolled back */
	WINDOW_FAILED				/* rolled back; error logged */
} WindowResult;

typedef enum LockResult
{
	LOCK_OK = 0,
	LOCK_BUSY,					/* another process holds this operation */
	LOCK_ERROR
} LockResult;

typedef struct LoadCounts
{
	uint64_t	records;		/* records received */
	uint64_t	inserted;
	uint64_t	updated;
	uint64_t	duplicates;		/* same identity twice in one answer */
	uint64_t	rejects;
	uint64_t	api_calls;
	uint64_t	bytes;
} LoadCounts;

/* Connect (client_encoding UTF8); NULL on failure (logged). */
Loader	   *loader_connect(const LoadOptions *opt);
/* With opt->citus: whether the server is a Citus coordinator (false and
 * *mismatch when it is not, a configuration error, logged with what it
 * is); always true without it. False without *mismatch: a database error
 * (logged). */
bool		loader_check_server(Loader *l, bool *mismatch);
void		loader_free(Loader *l);

/* Apply sql/NNN_*.sql (embedded in the binary) not yet recorded, in order,
 * each in its own transaction, under a migration lock. applied: how many. */
bool		loader_migrate(Loader *l, int *applied);
/* True when every embedded migration is recorded (no migrate needed). */
bool		loader_schema_current(Loader *l, bool *current);

/* Where the warehouse schema stands, found without changing anything. */
typedef enum SchemaState
{
	SCHEMA_MISSING = 0,			/* no such schema in the database */
	SCHEMA_NOT_SET_UP,			/* it exists, without schema_migrations */
	SCHEMA_OLD,					/* set up by an older wvetl: migrate first */
	SCHEMA_CURRENT
} SchemaState;
bool		loader_schema_state(Loader *l, SchemaState *state);

/* Session advisory lock for the operation; never waits. On LOCK_BUSY,
 * holder gets a description of the holder's run ("run 12, pid 345 on host
 * x, started ..."). Needs the schema (migrate first). */
LockResult	loader_lock_operation(Loader *l, char *holder, size_t holder_len);

/* etl_run bookkeeping. run_begin inserts a row (status running) and marks
 * earlier 'running' rows of the operation whose process is gone as
 * 'abandoned'. run_end sets status (ok, failed, interrupted, locked,
 * try_later), counts, error text, end time. */
bool		loader_run_begin(Loader *l, const char *command, int64_t from, int64_t to);
/* A run that does not start (e.g. status "locked": refused the lock): its
 * etl_run row, ended at once, with error saying why. Marks no other run
 * abandoned. from/to 0: unknown. */
bool		loader_run_refused(Loader *l, const char *command, int64_t from, int64_t to,
							   const char *status, const char *error);
int64_t		loader_run_id(const Loader *l);
bool		loader_run_end(Loader *l, const char *status, const LoadCounts *c,
						   const char *error);

/* Windows already loaded: *overlap when any loaded window of this operation
 * intersects [from, to); *exact when [from, to) is entirely covered. */
bool		loader_window_state(Loader *l, int64_t from, int64_t to,
								bool *overlap, bool *covered);

/* Watermark of `sync` for the operation; *found false when none. */
bool		loader_get_watermark(Loader *l, int64_t *wm, bool *found);

/* A window transaction: begin, add records and rejects, commit or abort. */
bool		loader_window_begin(Loader *l, int64_t from, int64_t to, LoadMode mode);
bool		loader_add_record(Loader *l, const SurveyRecord *rec);
bool		loader_add_reject(Loader *l, const char *raw, size_t raw_len,
							  const char *reason);
/* Counts so far in the open window (records, rejects). */
void		loader_window_counts(const Loader *l, uint64_t *records, uint64_t *rejects);

/*
 * loader_window_commit: finish the COPYs, merge (LOAD_MERGE), write the
 * etl_window row (with api_calls and bytes from extra), move the watermark
 * to new_watermark when it is > 0 and later than the saved one, update the
 * run's counters, and COMMIT. out receives the window's counts.
 */
WindowResult loader_window_commit(Loader *l, int64_t new_watermark,
								  const LoadCounts *extra, LoadCounts *out);
/* Roll the open window back (reason goes to the COPY abort); safe to call
 * when no window is open. */
void		loader_window_abort(Loader *l, const char *reason);

/* After loader_window_abort: store that window's rejects on their own (a
 * window failed by api.max_rejects keeps its rejects in etl_reject);
 * *kept: how many. */
bool		loader_window_keep_rejects(Loader *l, uint64_t *kept);

/*
 * The operation's time zone (load/timezone.c). loader_timezone_check:
 * *mismatch when the operation has data (a loaded window or a stored
 * survey) read in another zone than the loader's (etl_state.timezone, put
 * into stored). loader_change_timezone: re-read everything stored for the
 * operation from old_zone into the loader's zone, in one transaction:
 * each survey's, window's, reject window's, agent's and skill's times and
 * the watermark keep their wall-clock reading, their instants move, the
 * surveys get the response_ids of their new instants (content hashes
 * cleared), etl_state.timezone becomes the new zone. Take the operation's
 * lock first. *surveys: how many were re-read. False on failure (logged;
 * nothing changed).
 */
bool		loader_timezone_check(Loader *l, char *stored, size_t stored_len, bool *mismatch);
bool		loader_change_timezone(Loader *l, const char *old_zone, uint64_t *surveys);

/*
 * The operation's privacy settings (load/privacy_record.c).
 * loader_privacy_check: *mismatch when the operation has data (a loaded
 * window or a stored survey) and a setting recorded in etl_state differs
 * from the loader's; stored and configured get the recorded and the
 * loader's settings ("ani=keep customer_id=hash agent_dni=drop"; stored
 * "" when none is recorded). loader_change_privacy: record the loader's
 * settings for the operation (the rows stored keep their form); *changed:
 * whether any recorded one differed, note: "ani: keep -> hash" for each.
 * Take the operation's lock first. False on failure (logged; nothing
 * changed).
 */
bool		loader_privacy_check(Loader *l, char *stored, char *configured, size_t len,
								 bool *mismatch);
bool		loader_change_privacy(Loader *l, char *note, size_t note_len, bool *changed);

/*
 * Retention (load/prune.c), under the operation's lock, in a run.
 * loader_prune_horizon: record (committed) that the operation is pruned
 * before `before` (etl_state.pruned_before, only moving forward; a
 * local midnight), *horizon: the recorded one. loader_prune_rows: delete
 * the operation's surveys answered before it, their answers, and its
 * rejects of windows ending at or before it, `batch` surveys (or rejects)
 * per transaction, each committing with the run's note (the counts so
 * far); never the rollups, etl_window or etl_run. c: added to as batches
 * commit. loader_prune_note: the run's final note. False on failure
 * (logged; what committed stays, a re-run continues).
 */
typedef struct PruneCounts
{
	uint64_t	surveys;
	uint64_t	answers;
	uint64_t	rejects;
	uint64_t	archives;		/* archive files (the caller deletes them) */
} PruneCounts;

bool		loader_prune_horizon(Loader *l, int64_t before, int64_t *horizon);

/*
 * loader_pruned_before: the operation's recorded prune horizon
 * (etl_state.pruned_before); *found false when it was never pruned. A load
 * must not reach before it: the days' surveys are gone but the rollups
 * still count them, so loading them again would count them twice. False
 * on failure (logged).
 */
bool		loader_pruned_before(Loader *l, int64_t *before, bool *found);
bool		loader_prune_rows(Loader *l, int64_t before, int batch, PruneCounts *c);
bool		loader_prune_note(Loader *l, const PruneCounts *c);

/* loader_run_note: set the run's etl_run.note (what it did beyond its
 * counters). False on failure (logged). */
bool		loader_run_note(Loader *l, const char *note);

/* `wvetl status`: per operation (all when operation is NULL), watermark,
 * recent runs, rows, rejects, gaps. */
bool		loader_status(Loader *l, FILE *out);
/* `wvetl status` of several configured operations (ops[i] configured in
 * zone zones[i]): a table of them side by side (zone, watermark, rows,
 * rejects, latest run), then each one's details as loader_status. */
bool		loader_status_operations(Loader *l, const char *const *ops,
									 const char *const *zones, int n, FILE *out);
/* `wvetl status --all`: every operation the warehouse knows, side by side
 * and then in detail, each in the zone its data was loaded in. */
bool		loader_status_all(Loader *l, FILE *out);

/* `wvetl rejects`: the operation's open rejects (resolved_at NULL) whose
 * window meets [from, to) (INT64_MIN / INT64_MAX: unbounded), by window:
 * as text, ending with the backfill commands that retry them (retry_args,
 * e.g. "--operation x ", goes into them), or as JSON lines. */
bool		loader_rejects(Loader *l, int64_t from, int64_t to, bool json,
						   const char *retry_args, FILE *out);

/* The response_id an identity computes (exposed for tests): answered_at's
 * epoch seconds (clamped to [0, 2^32 - 1]) << 31, OR the first 31 bits of
 * the md5 over the length-prefixed operation, conn_id, answered_at
 * (epoch), agent_id, skill_id; so ids sort by time. SQL
 * survey_response_id() computes the same. An identity whose id another
 * held when it was first stored has the next free id of its second
 * instead (etl_id_probe; load/collision.c). */
int64_t		load_response_id(const char *operation, const SurveyRecord *rec);

/* COPY text escaping (exposed for tests): append value as one COPY text
 * field to out (NULL ptr -> \N). Defined in copy_text.c. */
struct Buf;
void		copy_text_field(struct Buf *out, EtlStr value);

/* `wvetl questions` (questions.c): list the question numbers answered (all
 * operations when the loader's is ""), with counts, the range of numeric
 * answers, label, scale and kind; set one question's label, scale and kind
 * in survey_question (NULL keeps the stored value, "" clears it). */
bool		loader_questions_list(Loader *l, FILE *out);
bool		loader_questions_set(Loader *l, int question_no, const char *label,
								 const char *scale_min, const char *scale_max,
								 const char *kind, FILE *out);

/* Reader roles (access.c). loader_grant: role reads the BI views of the
 * operations named (recorded in etl_grant; SELECT on reader_relation);
 * refused (logged) for a role that does not exist or can read
 * survey_response itself. loader_revoke: role reads nothing of the
 * warehouse any more. loader_grants_print: the grants, for status. */
bool		loader_grant(Loader *l, const char *role, const char *const *operations, int n,
						 FILE *out);
bool		loader_revoke(Loader *l, const char *role, FILE *out);
bool		loader_grants_print(Loader *l, FILE *out);

/* `wvetl verify` (verify.c): the operation's rollups of the local days
 * [from, to) touches (INT64_MIN/INT64_MAX: unbounded) compared with the
 * base tables; every differing cell printed to out; *differences their
 * count. repair: rewrite those days' rollups (the caller holds the
 * operation's lock), then compare again (*differences: what still
 * differs). False on failure (logged). */
bool		loader_verify(Loader *l, int64_t from, int64_t to, bool repair, FILE *out,
						  uint64_t *differences);

#endif							/* WVETL_LOAD_H */
