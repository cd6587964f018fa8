/*
 * common/log.h
 *   One tiny logger: levels, stderr, text for terminals, key=value or JSON
 *   lines otherwise, a run id on every line. I/O layers log once where an
 *   error happens; pure layers never log (they fill an errbuf).
 *
 *   Secrets: log_add_secret() registers a string (the token) that is
 *   replaced by "***" in every line written, whatever the caller passed.
 */
#ifndef WVETL_LOG_H
#define WVETL_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum LogLevel
{
	LOG_TRACE = 0,
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	LOG_FATAL
} LogLevel;

typedef enum LogFormat
{
	LOG_FORMAT_AUTO = 0,		/* text on a terminal, key=value otherwise */
	LOG_FORMAT_TEXT,			/* key=value lines ("text" in the config) */
	LOG_FORMAT_JSON,
	LOG_FORMAT_HUMAN			/* forced human-readable */
} LogFormat;

void		log_set_level(LogLevel level);
LogLevel	log_get_level(void);
void		log_set_format(LogFormat format);
void		log_set_run_id(long long run_id);
/* Name the operation on every line from now on (op=NAME, "operation" in
 * JSON, [NAME/stage] for people): set by a run over several operations. */
void		log_set_operation(const char *operation);
/* Register a secret to scrub from every line; the string is copied. */
void		log_add_secret(const char *secret);
/* Replace every registered secret in s (in place, NUL-terminated) by ***. */
void		log_scrub(char *s, size_t size);
/* The stage of the last error or fatal message logged (shown or not), or
 * NULL: main tells a configuration error (stage "config") from others. The
 * string is the caller's literal. */
const char *log_last_error_stage(void);
/* s as a logfmt value (quoted only when it must be) or a JSON string
 * (always quoted), escaped, into out (always NUL-terminated). */
void		log_quote(const char *s, bool json, char *out, size_t size);
bool		log_parse_level(const char *s, LogLevel *out);
const char *log_level_name(LogLevel level);

/* A progress line on a terminal: redrawn in place, kept below log lines.
 * Callers show it only when stderr is a terminal. */
void		log_progress(const char *fmt,...) __attribute__((format(printf, 1, 2)));
void		log_progress_end(void);

/* Write len bytes of whole lines to stderr in one write(2) (lines of
 * several processes sharing stderr never interleave); for lines written
 * outside log_write, like a run's summary. */
void		log_emit(const char *line, size_t len);

void		log_write(LogLevel level, const char *stage, const char *file, int line,
					  const char *fmt,...) __attribute__((format(printf, 5, 6)));

#define log_trace(stage, ...) log_write(LOG_TRACE, stage, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(stage, ...) log_write(LOG_DEBUG, stage, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(stage, ...)  log_write(LOG_INFO,  stage, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(stage, ...)  log_write(LOG_WARN,  stage, __FILE__, __LINE__, __VA_ARGS__)
#define log_error(stage, ...) log_write(LOG_ERROR, stage, __FILE__, __LINE__, __VA_ARGS__)
#define log_fatal(stage, ...) log_write(LOG_FATAL, stage, __FILE__, __LINE__, __VA_ARGS__)

#endif							/* WVETL_LOG_H */
