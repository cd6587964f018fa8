/*
 * extract/extract.h
 *   Gets raw answer bodies: from the Wolkvox reports_manager API over
 *   libcurl (one request at a time, body handed to a sink chunk by chunk as
 *   it arrives), or from a saved file (plain or gzip). Also keeps the raw
 *   archive. Knows the API's answers and says what each one means
 *   (ApiOutcome); the caller decides what to do about it.
 *
 *   The token is never written anywhere by this stage.
 */
#ifndef WVETL_EXTRACT_H
#define WVETL_EXTRACT_H

#include <signal.h>

#include "common/etl.h"

/*
 * ExtractSink: receives body bytes in arbitrary chunks (not NUL-terminated,
 * borrowed for the call). Return false to stop the transfer; the sink keeps
 * its own reason and the fetch ends with API_SINK_STOPPED.
 */
typedef bool (*ExtractSink) (void *ctx, const char *data, size_t len);

typedef enum ApiOutcome
{
	API_OK = 0,					/* HTTP 200, whole body handed to the sink */
	API_EMPTY,					/* 404 "Validate dates entered": no records */
	API_RETRY,					/* network, timeout, 5xx, 429, 403 simultaneous
								 * requests, cut or malformed body */
	API_RETRY_MAINT,			/* unrecognised 403: maintenance, wait longer */
	API_FATAL,					/* 400, 401, 403 PLEASE VALIDATE TOKEN, other 404 */
	API_QUOTA,					/* 403 TOKEN LIMIT EXCEEDED: try tomorrow */
	API_SINK_STOPPED			/* the sink said stop; its reason is its own */
} ApiOutcome;

typedef struct ApiResult
{
	ApiOutcome	outcome;
	long		http_status;	/* 0 when no answer */
	char		content_type[128];
	uint64_t	bytes;			/* body bytes received (decoded) */
	char		head[256];		/* first body bytes (for "what came back") */
	size_t		head_len;
	/* A non-200 answer's body (at most 64 KiB, the token scrubbed), for
	 * the archive: borrowed from the client until its next api_fetch;
	 * NULL for a 200 answer (that body went to the sink) or no answer. */
	const char *body;
	size_t		body_len;
	char		message[ETL_ERRLEN];	/* what went wrong, for people */
} ApiResult;

typedef struct ApiOptions
{
	const char *endpoint;		/* full URL without query */
	const char *token;
	const char *report;			/* diagram_4 */
	const char *server;			/* sent as wolkvox_server header when set */
	const char *ca_file;		/* NULL: system CAs */
	double		timeout_s;		/* connect timeout and no-data timeout */
	double		min_interval_s; /* least time between two requests */
	/* Optional (NULL: none): a flag a signal handler sets; non-zero ends a
	 * wait or a transfer within about a second (API_SINK_STOPPED,
	 * message "interrupted"). Borrowed for the client's life. */
	const volatile sig_atomic_t *stop;
} ApiOptions;

typedef struct ApiClient ApiClient;

/* Strings in opt are copied. NULL on failure (errbuf says why). */
ApiClient  *api_client_new(const ApiOptions *opt, char *errbuf);
void		api_client_free(ApiClient *c);

/*
 * api_fetch: GET {endpoint}?api=REPORT&date_ini=from&date_end=to-1s, the
 * wall-clock range of the process zone that reads as [from, to)
 * (wvtime_request_range); when none does, API_EMPTY without a request (an
 * hour a DST change repeats is asked once). One request at a time; waits
 * so that requests are at least min_interval apart. A 200 body goes to sink
 * as it arrives; of other bodies the first 64 KiB are read, and classified. A
 * failure below HTTP is API_RETRY, except those no retry can mend (TLS
 * certificate refused, bad URL or CA file): API_FATAL. Fills res; never
 * logs the token. Returns res->outcome.
 */
ApiOutcome	api_fetch(ApiClient *c, int64_t from, int64_t to,
					  ExtractSink sink, void *ctx, ApiResult *res);
uint64_t	api_client_requests(const ApiClient *c);

/* Classify an API answer from its HTTP status and message text (the
 * envelope's msg or error, or the raw body): pure, unit tested. */
ApiOutcome	api_classify(long http_status, const char *msg);
/* Find the envelope's msg (else error) in a small JSON body; copies into
 * out (outlen). False when the body is not such JSON. */
bool		api_envelope_message(const char *body, size_t len, char *out, size_t outlen);

/* Delay before retry number attempt (0-based): exponential from base_s,
 * with jitter in [d/2, d]; maintenance uses maint_s as the base and waits
 * at least that long: jitter in [d, 1.25 d]. */
double		api_backoff_delay(ApiOutcome o, int attempt, double base_s, double maint_s);

const char *api_outcome_name(ApiOutcome o);

/* Read a saved body (plain or .gz) and hand it to sink in chunks. */
bool		extract_file(const char *path, ExtractSink sink, void *ctx, char *errbuf);

/*
 * The raw archive: archive_open creates DIR/OPERATION/YYYY/MM/
 * REPORT_FROM_TO.json.gz.tmp.XXXXXX (times compact, local; a unique name,
 * created O_EXCL, mode 0600); archive_write appends (gzip); archive_finish
 * ends the stream and fsyncs the file (a full disk shows here);
 * archive_commit finishes it if need be and renames it without
 * .tmp.XXXXXX; archive_abort removes it. A NULL Archive is accepted by
 * every call (no archive).
 */
typedef struct Archive Archive;
Archive    *archive_open(const char *dir, const char *operation, const char *report,
						 int64_t from, int64_t to, char *errbuf);
bool		archive_write(Archive *a, const char *data, size_t len);
bool		archive_finish(Archive *a, char *errbuf);
bool		archive_commit(Archive *a, char *errbuf);	/* frees a */
void		archive_abort(Archive *a);	/* frees a */

/*
 * archive_prune: remove the operation's archives of report whose window
 * ended at or before `before` (their names' TO, read in the process's
 * zone: the operation's), and the year and month directories left empty.
 * Other files are left alone. *removed: how many. False, errbuf saying
 * why, when a directory cannot be read or a file removed (those removed
 * before stay removed).
 */
bool		archive_prune(const char *dir, const char *operation, const char *report,
						  int64_t before, uint64_t *removed, char *errbuf);

#endif							/* WVETL_EXTRACT_H */
