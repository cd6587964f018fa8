/*
 * common/log.c
 *   The logger: one line per event on stderr. Human-readable on a terminal;
 *   key=value (logfmt) or JSON lines otherwise. Every line carries the run id
 *   once known, and registered secrets are scrubbed from every line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/etl.h"
#include "common/log.h"

#define LOG_LINE_MAX 4096

static LogLevel log_level = LOG_INFO;
static LogFormat log_format = LOG_FORMAT_AUTO;
static long long log_run_id = 0;
static char log_operation[64];	/* "" until log_set_operation */
static char **log_secrets = NULL;	/* one token per operation, passwords */
static int	log_nsecrets = 0;
static const char *log_error_stage = NULL;	/* of the last error logged */
static char progress_line[512];
static bool progress_active = false;

static const char *const level_names[] = {
	"trace", "debug", "info", "warn", "error", "fatal"
};

static void log_append_quoted(char *out, size_t size, size_t *pos,
							  const char *s, bool json);
static bool log_is_human(void);

void
log_set_level(LogLevel level)
{
	log_level = level;
}

LogLevel
log_get_level(void)
{
	return log_level;
}

void
log_set_format(LogFormat format)
{
	log_format = format;
}

void
log_set_run_id(long long run_id)
{
	log_run_id = run_id;
}

void
log_set_operation(const char *operation)
{
	snprintf(log_operation, sizeof(log_operation), "%s", operation ? operation : "");
}

void
log_add_secret(const char *secret)
{
	char	  **more;
	int			i;

	/* Short strings would scrub ordinary words; a token is long. */
	if (secret == NULL || strlen(secret) < 4)
		return;
	for (i = 0; i < log_nsecrets; i++)
		if (strcmp(log_secrets[i], secret) == 0)
			return;
	more = realloc(log_secrets, sizeof(char *) * (size_t) (log_nsecrets + 1));
	if (more == NULL)
		abort();				/* a secret we could not scrub must not be logged */
	log_secrets = more;
	/* longest first: a token that holds a shorter one is scrubbed whole */
	for (i = log_nsecrets; i > 0 && strlen(log_secrets[i - 1]) < strlen(secret); i--)
		log_secrets[i] = log_secrets[i - 1];
	if ((log_secrets[i] = strdup(secret)) == NULL)
		abort();
	log_nsecrets++;
}

void
log_scrub(char *s, size_t size)
{
	for (int i = 0; i < log_nsecrets; i++)
	{
		const char *sec = log_secrets[i];
		size_t		n;
		char	   *p;

		if (sec == NULL)
			continue;
		n = strlen(sec);
		while ((p = strstr(s, sec)) != NULL)
		{
			/* "***" is never longer than a registered secret (>= 4 bytes). */
			memcpy(p, "***", 3);
			memmove(p + 3, p + n, strlen(p + n) + 1);
		}
	}
	(void) size;
}

bool
log_parse_level(const char *s, LogLevel *out)
{
	for (int i = LOG_TRACE; i <= LOG_FATAL; i++)
	{
		if (strcasecmp(s, level_names[i]) == 0)
		{
			*out = (LogLevel) i;
			return true;
		}
	}
	if (strcasecmp(s, "warning") == 0)
	{
		*out = LOG_WARN;
		return true;
	}
	return false;
}

const char *
log_level_name(LogLevel level)
{
	return level_names[level];
}

/* utf8_length: the length of the valid UTF-8 sequence at s (a byte >=
 * 0x80), or 0 when it is not one (stray continuation byte, overlong form,
 * surrogate, beyond U+10FFFF, cut short). */
static size_t
utf8_length(const unsigned char *s)
{
	size_t		n;
	unsigned int cp;

	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		(n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return n;
}

/* Append s quoted for logfmt (only when needed) or JSON. */
static void
log_append_quoted(char *out, size_t size, size_t *pos, const char *s, bool json)
{
	bool		quote = json || *s == '\0' || strpbrk(s, " =\"\t\n\\") != NULL;
	size_t		p = *pos;

	if (quote && p + 1 < size)
		out[p++] = '"';
	for (; *s && p + 7 < size; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
		{
			out[p++] = '\\';
			out[p++] = (char) c;
		}
		else if (c == '\n')
		{
			out[p++] = '\\';
			out[p++] = 'n';
		}
		else if (c == '\t')
		{
			out[p++] = '\\';
			out[p++] = 't';
		}
		else if (c < 0x20)
			p += (size_t) snprintf(out + p, size - p, "\\u%04x", c);
		else if (c >= 0x80 && json)
		{
			/* JSON lines must stay valid UTF-8 whatever a message quotes */
			size_t		n = utf8_length((const unsigned char *) s);

			if (n == 0 || p + n + 7 >= size)
				p += (size_t) snprintf(out + p, size - p, "\\ufffd");
			else
			{
				memcpy(out + p, s, n);
				p += n;
				s += n - 1;
			}
		}
		else
			out[p++] = (char) c;
	}
	if (quote && p + 1 < size)
		out[p++] = '"';
	out[p] = '\0';
	*pos = p;
}

/* log_is_human: lines are written for a person (a terminal, format auto). */
static bool
log_is_human(void)
{
	if (log_format == LOG_FORMAT_AUTO)
		return isatty(STDERR_FILENO) == 1;
	return log_format == LOG_FORMAT_HUMAN;
}

const char *
log_last_error_stage(void)
{
	return log_error_stage;
}

void
log_quote(const char *s, bool json, char *out, size_t size)
{
	size_t		pos = 0;

	log_append_quoted(out, size, &pos, s, json);
}

/*
 * log_emit: the line in one write(2), so that the lines of processes
 * sharing stderr (a sync of several operations) never interleave within a
 * line; a short write (a full pipe, a signal) continues where it stopped.
 */
void
log_emit(const char *line, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = write(STDERR_FILENO, line, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;				/* stderr is gone: nothing to tell anyone */
		line += n;
		len -= (size_t) n;
	}
}

void
log_write(LogLevel level, const char *stage, const char *file, int line,
		  const char *fmt,...)
{
	char		msg[LOG_LINE_MAX];
	char		out[LOG_LINE_MAX * 2 + 256];
	char		ts[40];
	struct timeval tv;
	struct tm	tm;
	size_t		pos = 0;
	va_list		ap;
	LogFormat	format = log_format;

	if (level >= LOG_ERROR)
		log_error_stage = stage;	/* even when not shown */
	if (level < log_level)
		return;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_scrub(msg, sizeof(msg));

	gettimeofday(&tv, NULL);
	if (format == LOG_FORMAT_AUTO)
		format = log_is_human() ? LOG_FORMAT_HUMAN : LOG_FORMAT_TEXT;
	/* Whatever a message quotes, it cannot drive the terminal: the human
	 * form shows no control character at all, key=value lines escape the
	 * C0 ones (log_append_quoted) and lose DEL and C1 here; JSON escapes
	 * what JSON must. */
	if (format != LOG_FORMAT_JSON)
		etl_text_defang(msg, format == LOG_FORMAT_HUMAN);

	if (format == LOG_FORMAT_HUMAN)
	{
		localtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
		pos = (size_t) snprintf(out, sizeof(out), "%s %-5s [%s%s%s] %s", ts,
								level_names[level], log_operation,
								log_operation[0] ? "/" : "", stage, msg);
		if (log_level <= LOG_DEBUG && pos < sizeof(out))
			pos += (size_t) snprintf(out + pos, sizeof(out) - pos, " (%s:%d)",
									 file, line);
	}
	else
	{
		bool		json = (format == LOG_FORMAT_JSON);

		gmtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		pos = (size_t) snprintf(out, sizeof(out),
								json ? "{\"ts\":\"%s.%03dZ\",\"level\":\"%s\",\"run\":%lld,"
								: "ts=%s.%03dZ level=%s run=%lld ",
								ts, (int) (tv.tv_usec / 1000), level_names[level], log_run_id);
		if (log_operation[0] != '\0' && pos < sizeof(out))
		{
			/* a run over several operations: each line says whose it is */
			pos += (size_t) snprintf(out + pos, sizeof(out) - pos, json ? "\"operation\":" : "op=");
			log_append_quoted(out, sizeof(out), &pos, log_operation, json);
			if (pos + 1 < sizeof(out))
				out[pos++] = json ? ',' : ' ';
		}
		if (pos < sizeof(out))
			pos += (size_t) snprintf(out + pos, sizeof(out) - pos,
									 json ? "\"pid\":%d,\"stage\":\"%s\",\"msg\":"
									 : "pid=%d stage=%s msg=", (int) getpid(), stage);
		if (pos >= sizeof(out))
			pos = sizeof(out) - 1;
		log_append_quoted(out, sizeof(out), &pos, msg, json);
		if (json && pos + 1 < sizeof(out))
			out[pos++] = '}';
	}
	if (pos >= sizeof(out) - 1)
		pos = sizeof(out) - 2;
	out[pos++] = '\n';
	if (progress_active)
	{
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	log_emit(out, pos);
	if (progress_active)
		fputs(progress_line, stderr);
	fflush(stderr);
}

/*
 * log_progress: draw the progress line, only when the log is human-readable
 * on a terminal and info messages are shown (not with -q): a progress line
 * in a log file or a pipe would be noise made of carriage returns.
 */
void
log_progress(const char *fmt,...)
{
	va_list		ap;

	if (log_level > LOG_INFO || !log_is_human())
		return;
	va_start(ap, fmt);
	vsnprintf(progress_line, sizeof(progress_line), fmt, ap);
	va_end(ap);
	progress_active = true;
	fprintf(stderr, "\r\033[K%s", progress_line);
	fflush(stderr);
}

void
log_progress_end(void)
{
	if (!progress_active)
		return;
	progress_active = false;
	fputs("\r\033[K", stderr);
	fflush(stderr);
}
