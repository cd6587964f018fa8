/*
 * extract/http.c
 *   The Wolkvox reports_manager client: one libcurl easy handle reused for
 *   every request (keep-alive), one request at a time, at least
 *   min_interval apart. A 200 body streams to the caller's sink; of any
 *   other body the first 64 KiB are kept and classified, and no more read. The token lives only in
 *   the request header list and is scrubbed from anything we report.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "common/log.h"
#include "common/wvtime.h"
#include "extract/extract.h"

#define HTTP_ERRBODY_MAX	(64 * 1024)	/* error bodies kept to classify */
#define HTTP_SHOW_MAX		120			/* body bytes quoted in a message */

struct ApiClient
{
	CURL	   *curl;
	struct curl_slist *headers; /* holds the token; owned */
	char	   *endpoint;		/* owned */
	char	   *report;			/* owned */
	char	   *token;			/* owned; only to scrub it from messages */
	char	   *hostport;		/* "host:port" for messages; owned */
	const volatile sig_atomic_t *stop;	/* borrowed; may be NULL */
	double		timeout_s;
	double		min_interval_s;
	bool		have_last;
	struct timespec last_end;	/* CLOCK_MONOTONIC end of the last request */
	uint64_t	requests;
	char		errbuf[CURL_ERROR_SIZE];	/* curl writes here; we only read */
	char		errbody[HTTP_ERRBODY_MAX + 1];	/* a non-200 body, cut */
};

/* FetchCtx: one request's state, shared with the curl callbacks. */
typedef struct FetchCtx
{
	ApiClient  *c;
	ApiResult  *res;
	ExtractSink sink;
	void	   *sink_ctx;
	bool		started;		/* the first body byte has arrived */
	long		status;			/* known once started */
	bool		sink_stopped;
	bool		interrupted;	/* *c->stop was set */
	bool		idle;			/* no body byte for timeout_s: given up */
	struct timespec last_data;	/* CLOCK_MONOTONIC: request start, then
								 * the last body byte */
	size_t		errlen;			/* bytes in c->errbody */
	bool		errbody_cut;	/* a non-200 body passed HTTP_ERRBODY_MAX: not read on */
} FetchCtx;

static bool client_hostport(ApiClient *c, char *errbuf);
static bool client_headers(ApiClient *c, const ApiOptions *opt, char *errbuf);
static bool client_setopts(ApiClient *c, const ApiOptions *opt, char *errbuf);
static size_t fetch_write(char *data, size_t size, size_t nmemb, void *userdata);
static int	fetch_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
						   curl_off_t ultotal, curl_off_t ulnow);
static bool fetch_wait(ApiClient *c);
static char *fetch_url(ApiClient *c, int64_t from, int64_t to);
static void fetch_curl_error(FetchCtx *f, CURLcode rc);
static void fetch_http_error(FetchCtx *f);
static void text_show(const char *s, size_t len, char *out, size_t outlen);
static size_t text_scrub(char *s, size_t len, const char *secret);
static bool stop_requested(const ApiClient *c);
static double seconds_since(const struct timespec *t);

static bool
stop_requested(const ApiClient *c)
{
	return c->stop != NULL && *c->stop != 0;
}

/* seconds_since: CLOCK_MONOTONIC seconds elapsed since t. */
static double
seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double) (now.tv_sec - t->tv_sec) + (double) (now.tv_nsec - t->tv_nsec) / 1e9;
}

/*
 * text_show: copy at most HTTP_SHOW_MAX bytes of s into out for a message,
 * each byte that is not printable ASCII as '?'; "..." marks a cut.
 */
static void
text_show(const char *s, size_t len, char *out, size_t outlen)
{
	size_t		i;
	size_t		n = len < HTTP_SHOW_MAX ? len : HTTP_SHOW_MAX;

	if (outlen == 0)
		return;
	if (n > outlen - 4)
		n = outlen - 4;
	for (i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) s[i];

		out[i] = (ch >= 0x20 && ch < 0x7f) ? (char) ch : '?';
	}
	if (n < len)
	{
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/*
 * text_scrub: replace every occurrence of secret in s[0..len) by "***", in
 * place (the text only shrinks); returns the new length, and ends the text
 * with a NUL when it shrank. A server might echo the token back in an error
 * body; it must not reach a message or a log line through us, nor its
 * length.
 */
static size_t
text_scrub(char *s, size_t len, const char *secret)
{
	static const char mask[] = "***";
	size_t		slen = secret ? strlen(secret) : 0;
	size_t		mlen = slen < sizeof(mask) - 1 ? slen : sizeof(mask) - 1;
	size_t		r = 0;
	size_t		w = 0;
	char	   *hit;

	if (slen == 0)
		return len;
	while (r < len && (hit = memmem(s + r, len - r, secret, slen)) != NULL)
	{
		size_t		keep = (size_t) (hit - (s + r));

		memmove(s + w, s + r, keep);
		w += keep;
		memcpy(s + w, mask, mlen);
		w += mlen;
		r += keep + slen;
	}
	memmove(s + w, s + r, len - r);
	w += len - r;
	if (w < len)
		s[w] = '\0';
	return w;
}

/* client_hostport: "host:port" of the endpoint, for connection messages. */
static bool
client_hostport(ApiClient *c, char *errbuf)
{
	CURLU	   *u = curl_url();
	char	   *host = NULL;
	char	   *port = NULL;
	bool		ok = false;

	if (u == NULL)
	{
		etl_seterr(errbuf, "out of memory");
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, c->endpoint, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
	{
		etl_seterr(errbuf, "invalid API endpoint URL");
		goto cleanup;
	}
	if (asprintf(&c->hostport, "%s:%s", host, port) < 0)
	{
		c->hostport = NULL;
		etl_seterr(errbuf, "out of memory");
		goto cleanup;
	}
	ok = true;

cleanup:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

/*
 * client_headers: the request headers. The token goes into the header list
 * only; a token with control characters could inject headers, so it is
 * refused (without being shown).
 */
static bool
client_headers(ApiClient *c, const ApiOptions *opt, char *errbuf)
{
	const char *p;
	char	   *line = NULL;
	struct curl_slist *l;
	bool		ok = false;

	for (p = opt->token; *p; p++)
	{
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
		{
			etl_seterr(errbuf, "the API token contains control characters");
			return false;
		}
	}
	if (asprintf(&line, "wolkvox-token: %s", opt->token) < 0)
	{
		etl_seterr(errbuf, "out of memory");
		return false;
	}
	l = curl_slist_append(c->headers, line);
	if (l == NULL)
		goto cleanup;
	c->headers = l;
	free(line);
	line = NULL;
	if (opt->server != NULL && opt->server[0] != '\0')
	{
		if (asprintf(&line, "wolkvox_server: %s", opt->server) < 0)
		{
			line = NULL;
			goto cleanup;
		}
		if ((l = curl_slist_append(c->headers, line)) == NULL)
			goto cleanup;
		c->headers = l;
	}
	if ((l = curl_slist_append(c->headers, "Accept: application/json")) == NULL)
		goto cleanup;
	c->headers = l;
	ok = true;

cleanup:
	if (!ok)
		etl_seterr(errbuf, "out of memory");
	if (line != NULL)
	{
		memset(line, 0, strlen(line));	/* may hold the token */
		free(line);
	}
	return ok;
}

/*
 * client_setopts: options shared by every request. No CURLOPT_TIMEOUT: it
 * would cut a long healthy body; a stalled one is caught by the progress
 * callback (no body byte for timeout_s) and, as a backstop, by the
 * low-speed limit (which curl averages over a few seconds, so it alone
 * would give up N s plus that window after the last byte, not N s). The
 * progress callback also ends a transfer when the stop flag is set, about
 * once a second even when nothing arrives. No CURLOPT_FAILONERROR: we
 * want the error body to classify it. No redirects: the API does not
 * redirect, and following one could send the token elsewhere.
 */
static bool
client_setopts(ApiClient *c, const ApiOptions *opt, char *errbuf)
{
	CURL	   *h = c->curl;
	double		t = c->timeout_s < 1.0 ? 1.0 : c->timeout_s;
	CURLcode	rc = CURLE_OK;

	c->timeout_s = t;
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_USERAGENT, "wvetl/" WVETL_VERSION);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long) (t * 1000.0));
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long) ceil(t));
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rc == CURLE_OK && opt->ca_file != NULL && opt->ca_file[0] != '\0')
		rc = curl_easy_setopt(h, CURLOPT_CAINFO, opt->ca_file);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_write);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, fetch_progress);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (rc != CURLE_OK)
	{
		etl_seterr(errbuf, "cannot set up libcurl: %s", curl_easy_strerror(rc));
		return false;
	}
	return true;
}

/*
 * api_client_new: see extract.h. Returns a client the caller frees with
 * api_client_free; NULL with errbuf set on failure.
 */
ApiClient *
api_client_new(const ApiOptions *opt, char *errbuf)
{
	ApiClient  *c = NULL;

	if (opt->endpoint == NULL || opt->endpoint[0] == '\0')
	{
		etl_seterr(errbuf, "no API endpoint");
		return NULL;
	}
	if (opt->token == NULL || opt->token[0] == '\0')
	{
		etl_seterr(errbuf, "no API token");
		return NULL;
	}
	c = calloc(1, sizeof(ApiClient));
	if (c == NULL)
	{
		etl_seterr(errbuf, "out of memory");
		return NULL;
	}
	c->endpoint = strdup(opt->endpoint);
	c->report = strdup(opt->report != NULL ? opt->report : "diagram_4");
	c->token = strdup(opt->token);
	c->stop = opt->stop;
	c->timeout_s = opt->timeout_s;
	c->min_interval_s = opt->min_interval_s;
	c->curl = curl_easy_init();
	if (c->endpoint == NULL || c->report == NULL || c->token == NULL ||
		c->curl == NULL)
	{
		etl_seterr(errbuf, "out of memory");
		goto fail;
	}
	if (!client_hostport(c, errbuf) || !client_headers(c, opt, errbuf) ||
		!client_setopts(c, opt, errbuf))
		goto fail;
	return c;

fail:
	api_client_free(c);
	return NULL;
}

/* api_client_free: NULL is fine. */
void
api_client_free(ApiClient *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	if (c->token != NULL)
	{
		memset(c->token, 0, strlen(c->token));
		free(c->token);
	}
	free(c->endpoint);
	free(c->report);
	free(c->hostport);
	free(c);
}

uint64_t
api_client_requests(const ApiClient *c)
{
	return c->requests;
}

/*
 * fetch_write: the curl write callback (see CURLOPT_WRITEFUNCTION). Reads
 * the status on the first call; a 200 body goes to the sink, any other is
 * kept for classification, and the transfer ends once HTTP_ERRBODY_MAX of
 * it are kept. Returns n, or CURL_WRITEFUNC_ERROR after noting why in the
 * FetchCtx.
 */
static size_t
fetch_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	FetchCtx   *f = userdata;
	ApiResult  *res = f->res;
	size_t		n = size * nmemb;
	size_t		room;

	if (!f->started)
	{
		f->started = true;
		curl_easy_getinfo(f->c->curl, CURLINFO_RESPONSE_CODE, &f->status);
	}
	if (stop_requested(f->c))
	{
		f->interrupted = true;
		return CURL_WRITEFUNC_ERROR;
	}
	room = sizeof(res->head) - res->head_len;
	if (room > 0)
	{
		memcpy(res->head + res->head_len, data, n < room ? n : room);
		res->head_len += n < room ? n : room;
	}
	res->bytes += n;
	if (n > 0)
		clock_gettime(CLOCK_MONOTONIC, &f->last_data);
	if (f->status == 200)
	{
		if (!f->sink(f->sink_ctx, data, n))
		{
			f->sink_stopped = true;
			return CURL_WRITEFUNC_ERROR;
		}
		return n;
	}
	room = HTTP_ERRBODY_MAX - f->errlen;
	if (room > 0)
	{
		memcpy(f->c->errbody + f->errlen, data, n < room ? n : room);
		f->errlen += n < room ? n : room;
	}
	if (n > room)
	{
		/* what an error body says is in its first bytes; the rest is not
		 * read (an endless one would be read for ever) */
		f->errbody_cut = true;
		return CURL_WRITEFUNC_ERROR;
	}
	return n;
}

/*
 * fetch_progress: the curl progress callback, called about once a second
 * even when nothing arrives (the write callback is not called then): it
 * lets a signal end a request that is waiting for data, and gives up on a
 * request that has received no body byte for timeout_s (since it started,
 * or since the last byte). Non-zero aborts the transfer.
 */
static int
fetch_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
			   curl_off_t ultotal, curl_off_t ulnow)
{
	FetchCtx   *f = userdata;

	if (stop_requested(f->c))
	{
		f->interrupted = true;
		return 1;
	}
	if (seconds_since(&f->last_data) >= f->c->timeout_s)
	{
		f->idle = true;
		return 1;
	}
	return 0;
}

/*
 * fetch_wait: sleep so that this request starts at least min_interval after
 * the previous one ended. False when a stop was requested meanwhile.
 */
static bool
fetch_wait(ApiClient *c)
{
	struct timespec now;
	struct timespec left;
	double		elapsed;
	double		wait;

	if (!c->have_last || c->min_interval_s <= 0.0)
		return !stop_requested(c);
	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed = (double) (now.tv_sec - c->last_end.tv_sec) +
		(double) (now.tv_nsec - c->last_end.tv_nsec) / 1e9;
	wait = c->min_interval_s - elapsed;
	if (wait <= 0.0)
		return !stop_requested(c);
	left.tv_sec = (time_t) wait;
	left.tv_nsec = (long) ((wait - (double) left.tv_sec) * 1e9);
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
	{
		if (stop_requested(c))
			return false;
	}
	return !stop_requested(c);
}

/*
 * fetch_url: endpoint?api=REPORT&date_ini=FROM&date_end=TO-1s (the API's
 * date_end is inclusive to the second), the wall-clock range that reads as
 * [from, to) (wvtime_request_range: a repeated hour is asked once, and
 * date_ini is never after date_end). The caller made sure the range is
 * not empty. Returns a malloc'd string or NULL.
 */
static char *
fetch_url(ApiClient *c, int64_t from, int64_t to)
{
	WallTime	wi;
	WallTime	we;
	char		ini[32];
	char		end[32];
	char	   *report = NULL;
	char	   *url = NULL;

	if (!wvtime_request_range(from, to, &wi, &we))
		return NULL;
	wvtime_format_wall(&wi, true, ini);
	wvtime_format_wall(&we, true, end);
	report = curl_easy_escape(c->curl, c->report, 0);
	if (report == NULL)
		return NULL;
	if (asprintf(&url, "%s%capi=%s&date_ini=%s&date_end=%s", c->endpoint,
				 strchr(c->endpoint, '?') != NULL ? '&' : '?', report, ini, end) < 0)
		url = NULL;
	curl_free(report);
	return url;
}

/*
 * fetch_curl_error: the transfer failed below HTTP. Say what failed in
 * words a person can act on; the outcome is API_RETRY, or API_FATAL for
 * what only a change of configuration can mend (a refused certificate, an
 * unreadable CA file, a bad URL).
 */
static void
fetch_curl_error(FetchCtx *f, CURLcode rc)
{
	ApiClient  *c = f->c;
	ApiResult  *res = f->res;
	const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
	curl_off_t	got = 0;
	curl_off_t	expected = -1;
	curl_off_t	connected = 0;

	curl_easy_getinfo(c->curl, CURLINFO_SIZE_DOWNLOAD_T, &got);
	curl_easy_getinfo(c->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected);
	curl_easy_getinfo(c->curl, CURLINFO_CONNECT_TIME_T, &connected);

	res->outcome = API_RETRY;
	switch (rc)
	{
		case CURLE_PEER_FAILED_VERIFICATION:
			/* retrying cannot make the certificate acceptable */
			res->outcome = API_FATAL;
			etl_seterr(res->message, "the TLS certificate of %s was refused: %s "
					   "(for a private CA, set api.ca_file)", c->hostport, why);
			break;
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_URL_MALFORMAT:
			/* not CURLE_UNSUPPORTED_PROTOCOL: garbage from a server that
			 * is not HTTP ("HTTP/0.9") ends that way too */
			res->outcome = API_FATAL;
			etl_seterr(res->message, "cannot ask %s: %s (check api.base_url and "
					   "api.ca_file)", c->hostport, why);
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
			etl_seterr(res->message, "cannot resolve host of %s: %s", c->hostport, why);
			break;
		case CURLE_COULDNT_CONNECT:
			etl_seterr(res->message, "cannot connect to %s: %s", c->hostport, why);
			break;
		case CURLE_OPERATION_TIMEDOUT:
			if (res->http_status != 0)
				etl_seterr(res->message, "no data for %.0f s (HTTP %ld, %llu body bytes received)",
						   c->timeout_s, res->http_status,
						   (unsigned long long) res->bytes);
			else if (connected == 0)
				etl_seterr(res->message, "cannot connect to %s within %.0f s",
						   c->hostport, c->timeout_s);
			else
				etl_seterr(res->message, "no data for %.0f s (no answer yet)",
						   c->timeout_s);
			break;
		case CURLE_PARTIAL_FILE:
		case CURLE_RECV_ERROR:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
		case CURLE_BAD_CONTENT_ENCODING:
			if (expected >= 0)
				etl_seterr(res->message, "body cut after %lld bytes (expected %lld): %s",
						   (long long) got, (long long) expected, why);
			else
				etl_seterr(res->message, "body cut after %lld bytes: %s",
						   (long long) got, why);
			break;
		default:
			etl_seterr(res->message, "request to %s failed: %s", c->hostport, why);
			break;
	}
}

/*
 * fetch_http_error: a complete answer whose status is not 200. Its message
 * is the envelope's msg/error when the body is one, else the body's first
 * bytes; the outcome follows api_classify.
 */
static void
fetch_http_error(FetchCtx *f)
{
	ApiClient  *c = f->c;
	ApiResult  *res = f->res;
	char		msg[256];
	char		shown[HTTP_SHOW_MAX + 8];
	char	   *location = NULL;

	f->errlen = text_scrub(c->errbody, f->errlen, c->token);
	res->body = c->errbody;
	res->body_len = f->errlen;
	if (api_envelope_message(c->errbody, f->errlen, msg, sizeof(msg)))
	{
		res->outcome = api_classify(res->http_status, msg);
		text_show(msg, strlen(msg), shown, sizeof(shown));
		etl_seterr(res->message, "HTTP %ld: %s", res->http_status, shown);
		return;
	}
	/* not an envelope: classify on the raw text (an embedded NUL ends it) */
	c->errbody[f->errlen] = '\0';
	res->outcome = api_classify(res->http_status, c->errbody);
	text_show(c->errbody, f->errlen, shown, sizeof(shown));
	if (res->http_status >= 300 && res->http_status < 400)
	{
		char		to[HTTP_SHOW_MAX + 8] = "";

		curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &location);
		if (location != NULL)
			text_show(location, strlen(location), to, sizeof(to));
		etl_seterr(res->message, "HTTP %ld: unexpected redirect%s%s",
				   res->http_status, to[0] ? " to " : "", to);
	}
	else if (f->errlen == 0)
		etl_seterr(res->message, "HTTP %ld (empty body)", res->http_status);
	else if (res->content_type[0] != '\0')
		etl_seterr(res->message, "HTTP %ld (%s): \"%s\"", res->http_status,
				   res->content_type, shown);
	else
		etl_seterr(res->message, "HTTP %ld: \"%s\"", res->http_status, shown);
}

/*
 * api_fetch: see extract.h. Logs one debug line per request (the URL holds
 * no secret); every failure is described in res->message for the caller
 * to log or act on.
 */
ApiOutcome
api_fetch(ApiClient *c, int64_t from, int64_t to,
		  ExtractSink sink, void *ctx, ApiResult *res)
{
	FetchCtx	f;
	char	   *url = NULL;
	char	   *ctype = NULL;
	CURLcode	rc;

	memset(res, 0, sizeof(*res));
	memset(&f, 0, sizeof(f));
	f.c = c;
	f.res = res;
	f.sink = sink;
	f.sink_ctx = ctx;

	if (!wvtime_request_range(from, to, NULL, NULL))
	{
		/* no request: no wall-clock time reads as an instant in [from, to) */
		res->outcome = API_EMPTY;
		etl_seterr(res->message, "no local time falls in the window (the earlier "
				   "occurrence of an hour a DST change repeats); nothing to ask");
		return res->outcome;
	}

	if (!fetch_wait(c))
	{
		res->outcome = API_SINK_STOPPED;
		etl_seterr(res->message, "interrupted");
		return res->outcome;
	}
	url = fetch_url(c, from, to);
	if (url == NULL ||
		curl_easy_setopt(c->curl, CURLOPT_URL, url) != CURLE_OK ||
		curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &f) != CURLE_OK ||
		curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, &f) != CURLE_OK)
	{
		free(url);
		res->outcome = API_RETRY;
		etl_seterr(res->message, "cannot prepare the request (out of memory?)");
		return res->outcome;
	}
	log_debug("extract", "GET %s", url);

	c->errbuf[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &f.last_data);
	rc = curl_easy_perform(c->curl);
	c->requests++;
	clock_gettime(CLOCK_MONOTONIC, &c->last_end);
	c->have_last = true;

	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &res->http_status);
	if (curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK &&
		ctype != NULL)
		text_show(ctype, strlen(ctype), res->content_type, sizeof(res->content_type));
	res->head_len = text_scrub(res->head, res->head_len, c->token);

	if (f.sink_stopped)
	{
		res->outcome = API_SINK_STOPPED;
		etl_seterr(res->message, "stopped by the consumer after %llu bytes",
				   (unsigned long long) res->bytes);
	}
	else if (f.interrupted)
	{
		res->outcome = API_SINK_STOPPED;
		etl_seterr(res->message, "interrupted");
	}
	else if (f.idle)
		fetch_curl_error(&f, CURLE_OPERATION_TIMEDOUT);
	else if (f.errbody_cut)
		fetch_http_error(&f);	/* what was kept of a long error body */
	else if (rc != CURLE_OK)
		fetch_curl_error(&f, rc);
	else if (res->http_status != 200)
		fetch_http_error(&f);
	else
		res->outcome = API_OK;

	(void) text_scrub(res->message, strlen(res->message), c->token);
	log_debug("extract", "HTTP %ld, %llu bytes, %s", res->http_status,
			  (unsigned long long) res->bytes, api_outcome_name(res->outcome));
	free(url);
	return res->outcome;
}
