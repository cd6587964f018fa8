/*
 * pipeline_attempt.c
 *   One attempt at one window, for the window loop of pipeline.c: open
 *   the transform and the target's window, fetch the body (or read the
 *   replayed file) through the transform into the sinks (the loader or
 *   the extract spool, and the archive), classify the answer, and commit
 *   or roll back. Everything an attempt opened is closed before it
 *   returns.
 *
 *   Personal data (privacy.*) is protected by the transform, so nothing
 *   downstream sees it in clear: with a privacy mode other than keep, the
 *   archive holds the window's records as the transform handed them on (a
 *   JSON array of the protected records and rejects, in body order), not
 *   the body as it came.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/wvtime.h"
#include "pipeline_int.h"
#include "transform/transform.h"

typedef enum StopReason
{
	STOP_NONE = 0,
	STOP_CAP,					/* the window reached api.max_records */
	STOP_TARGET,				/* the loader or the spool failed */
	STOP_INTERRUPT,				/* SIGINT/SIGTERM */
	STOP_BODY					/* the body is not what we can read */
} StopReason;

/* One attempt at one window: the context every sink receives. */
typedef struct Attempt
{
	Pipeline   *p;
	Transform  *tf;
	Archive    *archive;
	/* privacy on: the archive holds the records, protected, as a JSON
	 * array, instead of the body as it came */
	bool		archive_records;
	uint64_t	archived;		/* records written to it */
	FILE	   *spool;			/* extract: this window's JSON lines */
	uint64_t	seen;			/* records + rejects so far */
	uint64_t	spooled;		/* extract: lines in the spool */
	bool		keep_rejects;	/* failed by api.max_rejects: store its rejects */
	StopReason	stop;
	char		reason[ETL_ERRLEN];
} Attempt;

/* pipeline_privacy: the privacy.* settings as the transform takes them. */
static void
pipeline_privacy(const EtlConfig *cfg, TransformPrivacy *out)
{
	memset(out, 0, sizeof(*out));
	out->mode[SF_ANI] = cfg->privacy_ani;
	out->mode[SF_CUSTOMER_ID] = cfg->privacy_customer_id;
	out->mode[SF_AGENT_DNI] = cfg->privacy_agent_dni;
	out->key = (const unsigned char *) cfg->privacy_key;
	out->key_len = cfg->privacy_key_len;
}


/* window_name: "[from, to)" in local time, for messages. */
void
window_name(int64_t from, int64_t to, char *out, size_t size)
{
	char		a[32];
	char		b[32];

	wvtime_format_local(from, a);
	wvtime_format_local(to, b);
	snprintf(out, size, "[%s, %s)", a, b);
}

/* spool_line: append one JSON line to the attempt's spool. */
static bool
spool_line(Attempt *a, const char *raw, size_t len)
{
	if (fwrite(raw, 1, len, a->spool) != len || fputc('\n', a->spool) == EOF)
	{
		a->stop = STOP_TARGET;
		etl_seterr(a->reason, "cannot write the spool file: %s", strerror(errno));
		return false;
	}
	a->spooled++;
	return true;
}

/*
 * archive_record: one record (or reject) of a protected window into its
 * archive: "[" before the first, "," before the others; archive_close
 * writes the "]". Replayed, the array gives the same rows.
 */
static bool
archive_record(Attempt *a, const char *raw, size_t len)
{
	if (!a->archive_records || a->archive == NULL)
		return true;
	if (archive_write(a->archive, a->archived++ ? "," : "[", 1) &&
		archive_write(a->archive, raw, len))
		return true;
	a->stop = STOP_TARGET;
	etl_seterr(a->reason, "cannot write the archive file");
	return false;
}

/* archive_close: end the records array of a protected window. */
static void
archive_close(Attempt *a)
{
	if (a->archive_records && a->archive != NULL)
		(void) archive_write(a->archive, a->archived ? "]" : "[]", a->archived ? 1 : 2);
}

/* count_seen: one more record; stop the transfer at the record cap. */
static bool
count_seen(Attempt *a)
{
	/* The cap is the API's: a replayed file is one window whatever it holds. */
	if (++a->seen >= (uint64_t) a->p->cfg->max_records && a->p->replay_path == NULL)
	{
		a->stop = STOP_CAP;
		return false;
	}
	return true;
}

static bool
on_record(void *ctx, const SurveyRecord *rec)
{
	Attempt    *a = ctx;

	if (!archive_record(a, rec->raw.ptr, rec->raw.len))
		return false;
	if (a->p->loader == NULL)
	{
		if (!spool_line(a, rec->raw.ptr, rec->raw.len))
			return false;
	}
	else if (!loader_add_record(a->p->loader, rec))
	{
		a->stop = STOP_TARGET;
		etl_seterr(a->reason, "database error (logged above)");
		return false;
	}
	return count_seen(a);
}

static bool
on_reject(void *ctx, const char *raw, size_t raw_len, const char *reason, uint64_t seq)
{
	Attempt    *a = ctx;

	if (!archive_record(a, raw, raw_len))
		return false;
	if (a->p->loader == NULL)
	{
		if (!spool_line(a, raw, raw_len))
			return false;
	}
	else if (!loader_add_reject(a->p->loader, raw, raw_len, reason))
	{
		a->stop = STOP_TARGET;
		etl_seterr(a->reason, "database error (logged above)");
		return false;
	}
	log_debug("transform", "record %llu rejected: %s", (unsigned long long) seq, reason);
	return count_seen(a);
}

/* on_body: the extract sink. Tees to the archive, feeds the transform. */
static bool
on_body(void *ctx, const char *data, size_t len)
{
	Attempt    *a = ctx;

	if (pipeline_stop_requested)
	{
		a->stop = STOP_INTERRUPT;
		etl_seterr(a->reason, "interrupted");
		return false;
	}
	if (a->archive != NULL && !a->archive_records && !archive_write(a->archive, data, len))
	{
		a->stop = STOP_TARGET;
		etl_seterr(a->reason, "cannot write the archive file");
		return false;
	}
	if (!transform_feed(a->tf, data, len))
	{
		if (!transform_sink_stopped(a->tf))
		{
			a->stop = STOP_BODY;
			etl_seterr(a->reason, "%s", transform_error(a->tf));
		}
		return false;
	}
	return true;
}

/* describe_body: "what came back" for a body we could not read. */
static void
describe_body(const ApiResult *res, const char *what, char *why)
{
	char		head[81];
	size_t		n = res->head_len < 80 ? res->head_len : 80;

	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) res->head[i];

		head[i] = (c >= 0x20 && c < 0x7f) ? (char) c : '?';
	}
	head[n] = '\0';
	etl_seterr(why, "unreadable answer (HTTP %ld, %s, %llu bytes): %s%s%s%s",
			   res->http_status, res->content_type[0] ? res->content_type : "no content type",
			   (unsigned long long) res->bytes, what,
			   n > 0 ? "; it starts with \"" : "", head, n > 0 ? "\"" : "");
}

/* rejects_exceeded: the window's rejects are over api.max_rejects. */
static bool
rejects_exceeded(const EtlConfig *cfg, uint64_t records, uint64_t rejects, char *why)
{
	const RejectLimit *lim = &cfg->max_rejects;
	double		allowed = lim->percent ? lim->value / 100.0 * (double) (records + rejects)
		: lim->value;

	if ((double) rejects <= allowed)
		return false;
	etl_seterr(why, "%llu of %llu records rejected, more than api.max_rejects (%g%s); "
			   "see etl_reject for the records and reasons",
			   (unsigned long long) rejects, (unsigned long long) (records + rejects),
			   lim->value, lim->percent ? "%" : "");
	return true;
}

/*
 * replay_elsewhere: a replayed file none of whose records lies in the
 * window it is replayed as (another range's file, or the wrong --from and
 * --to). It fails whatever api.max_rejects allows, so that the range is
 * never recorded as loaded with nothing of its own; its records are kept
 * in etl_reject. An API answer is judged by api.max_rejects alone: a
 * stray record must not stall sync.
 */
static bool
replay_elsewhere(Attempt *a, uint64_t records, char *why)
{
	uint64_t	outside = transform_envelope(a->tf)->outside;

	if (a->p->replay_path == NULL || records > 0 || outside == 0)
		return false;
	etl_seterr(why, "all %llu records of %s are dated outside the window (see etl_reject); "
			   "is it the file of another range? Give the --from and --to it was saved for",
			   (unsigned long long) outside, a->p->replay_path);
	return true;
}

/* envelope_outcome: a 200 body may still carry an API error code. */
static ApiOutcome
envelope_outcome(const TransformEnvelope *env, char *why)
{
	char	   *end;
	long		code;
	const char *msg;

	if (!env->has_code)
		return API_OK;
	code = strtol(env->code, &end, 10);
	if (end == env->code || code == 200 || code == 0)
		return API_OK;			/* " " or "200" or "0": success as seen in the wild */
	msg = env->msg[0] ? env->msg : env->error;
	etl_seterr(why, "API answered code %s: %s", env->code, msg);
	/* the API's words reach a terminal and etl_run.error: no escapes */
	etl_text_defang(why, true);
	return api_classify(code, msg);
}

static bool
target_begin(Attempt *a, int64_t from, int64_t to, LoadMode mode)
{
	if (a->p->loader != NULL)
		return loader_window_begin(a->p->loader, from, to, mode);
	a->spool = tmpfile();
	if (a->spool == NULL)
	{
		log_error("extract", "cannot create a temporary file: %s", strerror(errno));
		return false;
	}
	return true;
}

/* spool_commit: copy the window's lines to the output. */
static bool
spool_commit(Attempt *a, char *why)
{
	char		buf[65536];
	size_t		n;

	rewind(a->spool);
	while ((n = fread(buf, 1, sizeof(buf), a->spool)) > 0)
	{
		if (fwrite(buf, 1, n, a->p->out) != n)
		{
			etl_seterr(why, "cannot write the output: %s", strerror(errno));
			return false;
		}
	}
	if (fflush(a->p->out) != 0)
	{
		etl_seterr(why, "cannot write the output: %s", strerror(errno));
		return false;
	}
	return true;
}

/*
 * window_commit: max_rejects check, then commit to the target. Returns
 * AT_DONE, AT_CONFLICT or AT_FAILED (why set).
 */
static AttemptResult
window_commit(Attempt *a, int64_t from, int64_t to, const LoadCounts *extra, char *why)
{
	Pipeline   *p = a->p;
	LoadCounts	out = {0};
	uint64_t	records = 0;
	uint64_t	rejects = 0;
	char		name[96];

	window_name(from, to, name, sizeof(name));
	if (p->loader == NULL)
	{
		if (!spool_commit(a, why))
			return AT_FAILED;
		out.records = a->spooled;
	}
	else
	{
		loader_window_counts(p->loader, &records, &rejects);
		if (rejects_exceeded(p->cfg, records, rejects, why) ||
			replay_elsewhere(a, records, why))
		{
			a->keep_rejects = true;
			return AT_FAILED;
		}
		switch (loader_window_commit(p->loader, p->move_watermark ? to : 0, extra, &out))
		{
			case WINDOW_COMMITTED:
				break;
			case WINDOW_CONFLICT:
				return AT_CONFLICT;
			case WINDOW_FAILED:
				etl_seterr(why, "database error (logged above)");
				return AT_FAILED;
		}
	}
	out.api_calls = extra->api_calls;
	out.bytes = extra->bytes;
	log_info("pipeline", "window %s: %llu records, %llu inserted, %llu updated, "
			 "%llu duplicates, %llu rejects", name,
			 (unsigned long long) out.records, (unsigned long long) out.inserted,
			 (unsigned long long) out.updated, (unsigned long long) out.duplicates,
			 (unsigned long long) out.rejects);
	p->stats.counts.records += out.records;
	p->stats.counts.inserted += out.inserted;
	p->stats.counts.updated += out.updated;
	p->stats.counts.duplicates += out.duplicates;
	p->stats.counts.rejects += out.rejects;
	return AT_DONE;
}

/* stopped_result: map why the sink stopped to what happens next. */
static AttemptResult
stopped_result(Attempt *a, const ApiResult *res, char *why)
{
	/* extract stops a stalled transfer itself when asked to stop */
	if (a->stop == STOP_NONE && pipeline_stop_requested)
		a->stop = STOP_INTERRUPT;
	switch (a->stop)
	{
		case STOP_CAP:
			return AT_SPLIT;
		case STOP_INTERRUPT:
			etl_seterr(why, "interrupted");
			return AT_INTERRUPTED;
		case STOP_BODY:
			describe_body(res, a->reason, why);
			return AT_RETRY;
		case STOP_TARGET:
		case STOP_NONE:
			break;
	}
	etl_seterr(why, "%s", a->reason[0] ? a->reason : "stopped");
	return AT_FAILED;
}

/* fetch_body: run the source (API or file) into the attempt's sinks. */
static ApiOutcome
fetch_body(Attempt *a, int64_t from, int64_t to, ApiResult *res, LoadCounts *extra)
{
	Pipeline   *p = a->p;
	char		errbuf[ETL_ERRLEN] = "";
	bool		read_ok;

	if (p->replay_path == NULL)
	{
		uint64_t	before = api_client_requests(p->api);
		ApiOutcome	o = api_fetch(p->api, from, to, on_body, a, res);

		/* none when no local time falls in the window (api_fetch) */
		extra->api_calls = api_client_requests(p->api) - before;
		extra->bytes = res->bytes;
		p->stats.counts.api_calls += extra->api_calls;
		p->stats.counts.bytes += res->bytes;
		return o;
	}
	res->http_status = 200;
	snprintf(res->content_type, sizeof(res->content_type), "file %s", p->replay_path);
	read_ok = extract_file(p->replay_path, on_body, a, errbuf);
	/* what was read, also for the message of a body that went wrong */
	res->bytes = transform_bytes(a->tf);
	if (read_ok)
		return API_OK;
	if (a->stop != STOP_NONE)
		return API_SINK_STOPPED;
	etl_seterr(res->message, "%s", errbuf);
	return API_FATAL;
}

/*
 * attempt_open: the attempt's transform, the target's window and, when
 * archive.dir is set, the archive file. False with why set; *begun tells
 * whether the target's window was begun (and must be aborted).
 */
static bool
attempt_open(Attempt *a, int64_t from, int64_t to, LoadMode mode, bool *begun, char *why)
{
	Pipeline   *p = a->p;
	TransformOptions topt = {0};
	char		errbuf[ETL_ERRLEN] = "";

	pipeline_privacy(p->cfg, &topt.privacy);
	a->archive_records = p->cfg->archive_dir != NULL && p->replay_path == NULL &&
		transform_privacy_active(&topt.privacy);
	topt.want_raw = (p->loader == NULL) || a->archive_records;
	topt.window_from = from;
	topt.window_to = to;
	a->tf = transform_new(&topt, on_record, on_reject, a);
	if (a->tf == NULL)
	{
		etl_seterr(why, "out of memory");
		return false;
	}
	if (!target_begin(a, from, to, mode))
	{
		etl_seterr(why, "cannot begin the window (logged above)");
		return false;
	}
	*begun = true;
	if (p->cfg->archive_dir != NULL && p->replay_path == NULL)
	{
		a->archive = archive_open(p->cfg->archive_dir, p->cfg->operation, p->cfg->report,
								  from, to, errbuf);
		if (a->archive == NULL)
		{
			etl_seterr(why, "archive: %s", errbuf);
			return false;
		}
	}
	return true;
}

/*
 * body_classify: after a fetch that went through (API_OK), end the parse
 * and read the envelope: the outcome the API's answer means (API_OK,
 * API_EMPTY, API_FATAL, ... or API_SINK_STOPPED when a sink stopped the
 * parse). False, with why set, when the body cannot be read as an answer.
 */
static bool
body_classify(Attempt *a, ApiResult *res, ApiOutcome *o, char *why)
{
	const TransformEnvelope *env;

	if (!transform_finish(a->tf))
	{
		if (!transform_sink_stopped(a->tf))
		{
			describe_body(res, transform_error(a->tf), why);
			return false;
		}
		*o = API_SINK_STOPPED;
		return true;
	}
	env = transform_envelope(a->tf);
	*o = envelope_outcome(env, res->message);
	if (*o == API_OK && env->data == ENV_DATA_OTHER)
	{
		describe_body(res, "\"data\" is neither a list of records nor an object", why);
		return false;
	}
	return true;
}

/*
 * attempt_commit: an answer with records (API_OK) or none (API_EMPTY):
 * commit the window, then the archive file. An empty answer's 404 body is
 * archived too: replayed, it is an empty window. The archive is a promise
 * archive.dir makes: a window whose file cannot be written whole (a full
 * disk shows at the end of the gzip stream) is not committed; one whose
 * file cannot be renamed after the commit fails the run (AT_ARCHIVE_LOST).
 */
static AttemptResult
attempt_commit(Attempt *a, int64_t from, int64_t to, ApiOutcome o, const ApiResult *res,
			   const LoadCounts *extra, char *why)
{
	AttemptResult r;
	char		errbuf[ETL_ERRLEN] = "";

	if (o == API_EMPTY)
	{
		char		name[96];

		window_name(from, to, name, sizeof(name));
		log_info("extract", "window %s: no records (%s)", name, res->message);
		/* a failed write fails archive_finish, which says so; a
		 * protected window's archive is its (empty) records array */
		if (res->body != NULL && !a->archive_records)
			(void) archive_write(a->archive, res->body, res->body_len);
		else if (res->body == NULL)
		{
			/* nothing was asked, nothing came: no file to keep */
			archive_abort(a->archive);
			a->archive = NULL;
		}
	}
	archive_close(a);
	if (!archive_finish(a->archive, errbuf))
	{
		etl_seterr(why, "archive: %s; the window is not loaded", errbuf);
		return AT_FAILED;
	}
	r = window_commit(a, from, to, extra, why);
	if (r == AT_DONE && a->archive != NULL)
	{
		Archive    *ar = a->archive;

		a->archive = NULL;
		if (!archive_commit(ar, errbuf))
		{
			etl_seterr(why, "archive: %s; the window is loaded but its answer is not "
					   "kept (backfill --reload of the window keeps it)", errbuf);
			return AT_ARCHIVE_LOST;
		}
	}
	return r;
}

/* outcome_result: what the API's answer means for the window, committed
 * when it holds the window's records. */
static AttemptResult
outcome_result(Attempt *a, int64_t from, int64_t to, ApiOutcome o, const ApiResult *res,
			   const LoadCounts *extra, char *why)
{
	switch (o)
	{
		case API_OK:
		case API_EMPTY:
			return attempt_commit(a, from, to, o, res, extra, why);
		case API_RETRY:
			etl_seterr(why, "%s", res->message);
			return AT_RETRY;
		case API_RETRY_MAINT:
			etl_seterr(why, "%s", res->message);
			return AT_RETRY_MAINT;
		case API_FATAL:
			etl_seterr(why, "%s", res->message);
			return AT_FAILED;
		case API_QUOTA:
			etl_seterr(why, "%s", res->message);
			return AT_QUOTA;
		case API_SINK_STOPPED:
			return stopped_result(a, res, why);
	}
	return AT_FAILED;
}

/*
 * window_attempt: one try at [from, to): open, fetch, classify the answer,
 * commit. Everything the attempt opened is closed before it returns;
 * anything not committed is rolled back.
 */
AttemptResult
window_attempt(Pipeline *p, int64_t from, int64_t to, LoadMode mode, char *why)
{
	Attempt		a = {0};
	ApiResult	res = {0};
	LoadCounts	extra = {0};
	AttemptResult r = AT_FAILED;
	ApiOutcome	o;
	bool		begun = false;

	a.p = p;
	if (attempt_open(&a, from, to, mode, &begun, why))
	{
		o = fetch_body(&a, from, to, &res, &extra);
		if (o == API_OK && !body_classify(&a, &res, &o, why))
			r = p->replay_path ? AT_FAILED : AT_RETRY;
		else
			r = outcome_result(&a, from, to, o, &res, &extra, why);
	}

	if (begun && r != AT_DONE && r != AT_ARCHIVE_LOST && p->loader != NULL)
	{
		uint64_t	kept = 0;

		loader_window_abort(p->loader, why[0] ? why : "window abandoned");
		if (a.keep_rejects && !loader_window_keep_rejects(p->loader, &kept))
			log_error("load", "the window's rejected records could not be stored either");
		/* they went to etl_reject: the run counts them (README, summary) */
		p->stats.counts.rejects += kept;
	}
	if (a.spool != NULL)
		fclose(a.spool);
	archive_abort(a.archive);
	transform_free(a.tf);
	return r;
}

