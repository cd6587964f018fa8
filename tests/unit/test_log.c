/*
 * tests/unit/test_log.c
 *   common/log.c: the exact key=value and JSON line shapes (fields, order,
 *   escaping of quotes, newlines and control bytes), the run id, secret
 *   scrubbing (any number of secrets), the operation's name on the lines
 *   of a run over several operations, level filtering, the last error's
 *   stage, log_quote, and the progress line: nothing at all unless the log is human-readable, and on
 *   a terminal-like log redrawn below every log line and erased.
 *
 *   stderr is pointed at a temporary file for each test and read back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/etl.h"
#include "common/log.h"

static int	saved_stderr = -1;
static char capture_path[64];

static void capture_start(void);
static char *capture_end(void);

/* capture_start: stderr into a fresh temporary file. */
static void
capture_start(void)
{
	int			fd;

	snprintf(capture_path, sizeof(capture_path), "/tmp/wvetl-test-log-XXXXXX");
	fd = mkstemp(capture_path);
	assert_true(fd >= 0);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
}

/* capture_end: stderr back; what was written, NUL-terminated (free it). */
static char *
capture_end(void)
{
	FILE	   *f;
	char	   *text = calloc(1, 65536);
	size_t		n;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	f = fopen(capture_path, "r");
	assert_non_null(f);
	n = fread(text, 1, 65535, f);
	text[n] = '\0';
	fclose(f);
	unlink(capture_path);
	return text;
}

/* from_stage: line from its "stage" field on. */
static const char *
from_stage(const char *line)
{
	const char *p = strstr(line, "stage");

	assert_non_null(p);
	return p;
}

static void
test_kv_line(void **state)
{
	char	   *out;
	char		want[128];

	(void) state;
	log_set_level(LOG_INFO);
	log_set_format(LOG_FORMAT_TEXT);
	log_set_run_id(7);
	capture_start();
	log_info("load", "a \"b\" c\nd\te\\f\x01 end");
	log_info("pipeline", "plain");
	out = capture_end();
	/* ts=YYYY-MM-DDTHH:MM:SS.mmmZ level=info run=7 pid=N stage=... */
	assert_int_equal(strncmp(out, "ts=", 3), 0);
	assert_int_equal(out[13], 'T');
	assert_int_equal(out[26], 'Z');
	assert_int_equal(strncmp(out + 27, " level=info run=7 pid=", 22), 0);
	snprintf(want, sizeof(want), "pid=%d stage=load", (int) getpid());
	assert_non_null(strstr(out, want));
	{
		const char *w = "stage=load msg=\"a \\\"b\\\" c\\nd\\te\\\\f\\u0001 end\"\n";

		assert_int_equal(strncmp(from_stage(out), w, strlen(w)), 0);
	}
	assert_non_null(strstr(out, "stage=pipeline msg=plain\n"));
	/* exactly two lines */
	assert_non_null(strchr(out, '\n'));
	assert_string_equal(strchr(strchr(out, '\n') + 1, '\n'), "\n");
	free(out);
}

static void
test_json_line(void **state)
{
	char	   *out;
	char		want[128];

	(void) state;
	log_set_level(LOG_INFO);
	log_set_format(LOG_FORMAT_JSON);
	log_set_run_id(0);
	capture_start();
	log_warn("config", "x \"y\"\n\x02");
	out = capture_end();
	assert_int_equal(strncmp(out, "{\"ts\":\"", 7), 0);
	snprintf(want, sizeof(want), "Z\",\"level\":\"warn\",\"run\":0,\"pid\":%d,\"stage\"", (int) getpid());
	assert_non_null(strstr(out, want));
	assert_string_equal(from_stage(out), "stage\":\"config\",\"msg\":\"x \\\"y\\\"\\n\\u0002\"}\n");
	free(out);
	log_set_format(LOG_FORMAT_TEXT);
}

/* No control character from a message reaches the terminal: the human
 * form turns ESC, BEL, CR, LF, DEL and C1 (CSI U+009B) into '?';
 * key=value lines escape C0 and lose DEL and C1; JSON escapes. */
static void
test_control_characters(void **state)
{
	const char *evil = "a\x1b[31mb\x1b]0;t\x07" "c\rd\ne\x7f\xc2\x9b" "2Jf\tg \xc3\xa9";
	char	   *out;

	(void) state;
	log_set_level(LOG_INFO);
	log_set_format(LOG_FORMAT_HUMAN);
	capture_start();
	log_error("extract", "%s", evil);
	out = capture_end();
	assert_non_null(strstr(out, "[extract] a?[31mb?]0;t?c?d?e??2Jf\tg \xc3\xa9\n"));
	assert_null(strchr(out, '\x1b'));
	free(out);

	log_set_format(LOG_FORMAT_TEXT);
	capture_start();
	log_error("extract", "%s", evil);
	out = capture_end();
	assert_non_null(strstr(out, "msg=\"a\\u001b[31mb\\u001b]0;t\\u0007c\\u000dd\\ne??2Jf\\tg \xc3\xa9\"\n"));
	free(out);

	char		s[] = "x\x1by\xc2\x85z\xc2\xa0\x7f\n";

	assert_string_equal(etl_text_defang(s, false), "x\x1by?z\xc2\xa0?\n");
	assert_string_equal(etl_text_defang(s, true), "x?y?z\xc2\xa0??");
}

static void
test_secrets_scrubbed(void **state)
{
	char	   *out;

	(void) state;
	log_set_level(LOG_INFO);
	log_set_format(LOG_FORMAT_TEXT);
	log_add_secret("tok-5ecret-123");
	log_add_secret("abc");		/* too short to scrub: ignored */
	capture_start();
	log_error("extract", "token tok-5ecret-123 and again tok-5ecret-123!");
	log_info("extract", "abc stays");
	out = capture_end();
	assert_null(strstr(out, "5ecret"));
	assert_non_null(strstr(out, "msg=\"token *** and again ***!\"\n"));
	assert_non_null(strstr(out, "msg=\"abc stays\"\n"));
	free(out);
}

/* Any number of secrets (a token per operation), a longer one that holds
 * a shorter one scrubbed whole, whatever order they came in. */
static void
test_many_secrets(void **state)
{
	char	   *out;
	char		secret[32];

	(void) state;
	log_set_level(LOG_INFO);
	log_set_format(LOG_FORMAT_TEXT);
	for (int i = 0; i < 20; i++)
	{
		snprintf(secret, sizeof(secret), "op-token-%02d-xyz", i);
		log_add_secret(secret);
	}
	log_add_secret("short-1");
	log_add_secret("short-1-and-longer");
	capture_start();
	log_info("extract", "a op-token-00-xyz b op-token-19-xyz c short-1-and-longer d short-1");
	out = capture_end();
	assert_non_null(strstr(out, "msg=\"a *** b *** c *** d ***\"\n"));
	free(out);
}

/* A run over several operations names the operation on every line. */
static void
test_operation_named(void **state)
{
	char	   *out;
	char		want[128];

	(void) state;
	log_set_level(LOG_INFO);
	log_set_run_id(3);
	log_set_operation("acme-2");
	log_set_format(LOG_FORMAT_TEXT);
	capture_start();
	log_info("load", "x");
	out = capture_end();
	snprintf(want, sizeof(want), " level=info run=3 op=acme-2 pid=%d stage=load msg=x\n",
			 (int) getpid());
	assert_non_null(strstr(out, want));
	free(out);
	log_set_format(LOG_FORMAT_JSON);
	capture_start();
	log_info("load", "x");
	out = capture_end();
	snprintf(want, sizeof(want), "\"run\":3,\"operation\":\"acme-2\",\"pid\":%d,\"stage\"",
			 (int) getpid());
	assert_non_null(strstr(out, want));
	free(out);
	log_set_format(LOG_FORMAT_HUMAN);
	capture_start();
	log_info("load", "x");
	out = capture_end();
	assert_non_null(strstr(out, " info  [acme-2/load] x\n"));
	free(out);
	log_set_operation(NULL);
	log_set_format(LOG_FORMAT_TEXT);
	log_set_run_id(0);
}

static void
test_levels_and_last_error(void **state)
{
	char	   *out;

	(void) state;
	log_set_format(LOG_FORMAT_TEXT);
	log_set_level(LOG_WARN);
	capture_start();
	log_debug("load", "hidden debug");
	log_info("load", "hidden info");
	log_warn("load", "shown warn");
	log_error("config", "shown error");
	out = capture_end();
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "level=warn"));
	assert_non_null(strstr(out, "level=error"));
	assert_string_equal(log_last_error_stage(), "config");
	free(out);

	/* an error filtered out still counts as the last error */
	log_set_level(LOG_FATAL);
	capture_start();
	log_error("load", "not shown");
	out = capture_end();
	assert_string_equal(out, "");
	assert_string_equal(log_last_error_stage(), "load");
	free(out);
	log_set_level(LOG_INFO);
}

static void
test_quote(void **state)
{
	char		out[64];

	(void) state;
	log_quote("acme", false, out, sizeof(out));
	assert_string_equal(out, "acme");
	log_quote("acme corp", false, out, sizeof(out));
	assert_string_equal(out, "\"acme corp\"");
	log_quote("a=b", false, out, sizeof(out));
	assert_string_equal(out, "\"a=b\"");
	log_quote("", false, out, sizeof(out));
	assert_string_equal(out, "\"\"");
	log_quote("acme", true, out, sizeof(out));
	assert_string_equal(out, "\"acme\"");
	log_quote("q\"\\", true, out, sizeof(out));
	assert_string_equal(out, "\"q\\\"\\\\\"");
	/* JSON stays valid UTF-8: good sequences kept, bad bytes replaced */
	log_quote("ñ€😀", true, out, sizeof(out));
	assert_string_equal(out, "\"ñ€😀\"");
	log_quote("a\xff b\xc3 c\xed\xa0\x80 d\xc0\xaf", true, out, sizeof(out));
	assert_string_equal(out, "\"a\\ufffd b\\ufffd c\\ufffd\\ufffd\\ufffd d\\ufffd\\ufffd\"");
	log_quote("a\xff", false, out, sizeof(out));	/* logfmt: bytes as they are */
	assert_string_equal(out, "a\xff");
}

/* The progress line is written only when the log is human-readable: with
 * stderr a file and the format automatic, or key=value, or JSON: nothing. */
static void
test_progress_not_in_files(void **state)
{
	static const LogFormat formats[] = {LOG_FORMAT_AUTO, LOG_FORMAT_TEXT, LOG_FORMAT_JSON};
	char	   *out;

	(void) state;
	log_set_level(LOG_INFO);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
	{
		log_set_format(formats[i]);
		capture_start();
		log_progress("windows %d/%d", 1, 3);
		log_info("pipeline", "a line");
		log_progress_end();
		out = capture_end();
		assert_null(strstr(out, "windows"));
		assert_null(strchr(out, '\r'));
		assert_null(strchr(out, '\033'));
		free(out);
	}
	log_set_format(LOG_FORMAT_TEXT);
}

/* Human-readable (a terminal): drawn after "\r ESC[K", erased before every
 * log line and drawn again after it, erased at the end; not with -q. */
static void
test_progress_on_terminal(void **state)
{
	char	   *out;

	(void) state;
	log_set_level(LOG_INFO);
	log_set_format(LOG_FORMAT_HUMAN);
	capture_start();
	log_progress("windows %d/%d", 1, 3);
	log_info("pipeline", "between");
	log_progress("windows %d/%d", 2, 3);
	log_progress_end();
	out = capture_end();
	assert_int_equal(strncmp(out, "\r\033[Kwindows 1/3\r\033[K", 19), 0);
	assert_non_null(strstr(out, " info  [pipeline] between\nwindows 1/3\r\033[Kwindows 2/3\r\033[K"));
	assert_null(strstr(out, "ts="));
	assert_int_equal(out[strlen(out) - 1], 'K');
	free(out);

	log_set_level(LOG_WARN);	/* -q */
	capture_start();
	log_progress("windows %d/%d", 1, 3);
	log_progress_end();
	out = capture_end();
	assert_string_equal(out, "");
	free(out);
	log_set_level(LOG_INFO);
	log_set_format(LOG_FORMAT_TEXT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv_line),
		cmocka_unit_test(test_json_line),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_secrets_scrubbed),
		cmocka_unit_test(test_many_secrets),
		cmocka_unit_test(test_operation_named),
		cmocka_unit_test(test_levels_and_last_error),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_progress_not_in_files),
		cmocka_unit_test(test_progress_on_terminal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
