/*
 * extract/classify.c
 *   What an API answer means: HTTP status + message -> ApiOutcome, the
 *   envelope's message, and the retry delay. Pure: no I/O, no logging.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "extract/extract.h"

/* Longest retry delay, whatever the attempt number. */
#define BACKOFF_CAP_S	(30.0 * 60.0)

static bool msg_has(const char *msg, const char *needle);
static ApiOutcome classify_403(const char *msg);
static bool envelope_copy(const char *s, char *out, size_t outlen);
static double backoff_random(void);

/* msg_has: case-insensitive substring test; a NULL msg holds nothing. */
static bool
msg_has(const char *msg, const char *needle)
{
	return msg != NULL && strcasestr(msg, needle) != NULL;
}

/*
 * classify_403: the API uses 403 for four different things (wolkvox-api-facts
 * 2.3 and S4): the daily quota, too many concurrent requests, a bad token,
 * and server maintenance (whose body is undocumented, hence the default).
 */
static ApiOutcome
classify_403(const char *msg)
{
	if (msg_has(msg, "TOKEN LIMIT EXCEEDED"))
		return API_QUOTA;
	if (msg_has(msg, "SIMULTANEOUS"))
		return API_RETRY;
	if (msg_has(msg, "VALIDATE TOKEN") || msg_has(msg, "ENTER THE WOLKVOX-TOKEN"))
		return API_FATAL;
	return API_RETRY_MAINT;
}

/*
 * api_classify: see extract.h. A status we have no rule for (1xx, 2xx other
 * than 200, nonsense) is retried: it is more likely a proxy's hiccup than a
 * configuration error, and retries are bounded.
 */
ApiOutcome
api_classify(long http_status, const char *msg)
{
	if (http_status == 200)
		return API_OK;
	if (http_status == 0)
		return API_RETRY;		/* no answer at all */
	if (http_status == 404)
		return msg_has(msg, "validate dates") ? API_EMPTY : API_FATAL;
	if (http_status == 403)
		return classify_403(msg);
	if (http_status == 408 || http_status == 425 || http_status == 429)
		return API_RETRY;
	if (http_status >= 300 && http_status < 500)
		return API_FATAL;		/* 400, 401, other 4xx, unexpected redirect */
	return API_RETRY;			/* 5xx and anything unexpected */
}

/*
 * envelope_copy: copy s into out with surrounding blanks trimmed (the API's
 * msg sometimes starts with a space). False when nothing is left.
 */
static bool
envelope_copy(const char *s, char *out, size_t outlen)
{
	size_t		len;

	while (isspace((unsigned char) *s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	if (len == 0 || outlen == 0)
		return false;
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

/*
 * api_envelope_message: see extract.h. The body is small (the caller keeps
 * at most 64 KiB of an error body), so yajl_tree is fine here. A msg that
 * is blank falls back to error; an error of "null" (the CRM APIs write
 * null as a string) is no message.
 */
bool
api_envelope_message(const char *body, size_t len, char *out, size_t outlen)
{
	static const char *msg_path[] = {"msg", NULL};
	static const char *err_path[] = {"error", NULL};
	char	   *text = NULL;
	yajl_val	root = NULL;
	yajl_val	v;
	const char *s;
	bool		found = false;

	if (body == NULL || len == 0 || outlen == 0)
		return false;
	text = malloc(len + 1);
	if (text == NULL)
		return false;
	memcpy(text, body, len);
	text[len] = '\0';

	root = yajl_tree_parse(text, NULL, 0);
	if (root == NULL || !YAJL_IS_OBJECT(root))
		goto cleanup;

	v = yajl_tree_get(root, msg_path, yajl_t_string);
	s = YAJL_GET_STRING(v);
	if (s != NULL && envelope_copy(s, out, outlen))
	{
		found = true;
		goto cleanup;
	}
	v = yajl_tree_get(root, err_path, yajl_t_string);
	s = YAJL_GET_STRING(v);
	if (s != NULL && strcasecmp(s, "null") != 0)
		found = envelope_copy(s, out, outlen);

cleanup:
	yajl_tree_free(root);
	free(text);
	return found;
}

/*
 * backoff_random: uniform in [0, 1]. The seed mixes time and pid so that
 * two processes that failed together do not retry together.
 */
static double
backoff_random(void)
{
	static unsigned int seed;
	static bool seeded = false;

	if (!seeded)
	{
		seed = (unsigned int) time(NULL) ^ ((unsigned int) getpid() << 16);
		seeded = true;
	}
	return (double) rand_r(&seed) / (double) RAND_MAX;
}

/*
 * api_backoff_delay: see extract.h. delay = base * 2^attempt, at most 30
 * minutes, then "equal jitter": uniform in [delay/2, delay], so the delay
 * still grows but concurrent failures spread out. Maintenance has its own
 * base, maint_s, which is a promise to the operator ("wait this long before
 * asking again"): its jitter goes up, uniform in [delay, 1.25 delay].
 */
double
api_backoff_delay(ApiOutcome o, int attempt, double base_s, double maint_s)
{
	double		base = (o == API_RETRY_MAINT) ? maint_s : base_s;
	double		delay;

	if (!(base > 0.0))
		return 0.0;
	if (attempt < 0)
		attempt = 0;
	if (attempt > 40)
		attempt = 40;			/* 2^40 * anything positive is past the cap */
	delay = ldexp(base, attempt);
	if (delay > BACKOFF_CAP_S)
		delay = BACKOFF_CAP_S;
	if (o == API_RETRY_MAINT)
		return delay + (delay / 4.0) * backoff_random();
	return delay / 2.0 + (delay / 2.0) * backoff_random();
}

const char *
api_outcome_name(ApiOutcome o)
{
	switch (o)
	{
		case API_OK:
			return "ok";
		case API_EMPTY:
			return "empty";
		case API_RETRY:
			return "retry";
		case API_RETRY_MAINT:
			return "retry-maintenance";
		case API_FATAL:
			return "fatal";
		case API_QUOTA:
			return "quota";
		case API_SINK_STOPPED:
			return "sink-stopped";
	}
	return "unknown";
}
