/*
 * tests/unit/test_config.c
 *   common/config*.c: every key type from a file; "file:line: message" for
 *   an unknown key or section, a bad value, a bad line, a key outside a
 *   section; a 300-byte value and a ';' inside a value arrive intact
 *   (toolchain-notes.md: Debian's inih cuts both); ';' and '#' comment
 *   lines; precedence default < file < $WOLKVOX_TOKEN < --set; durations
 *   with units; max_rejects as a count or a percent; the insecure-file
 *   flag; config_print masks the token and the database password and names
 *   each value's source with file:line; COMMAND --help's key lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/config.h"
#include "common/etl.h"

static char *write_ini(const char *text, mode_t mode);
static void load_ok(EtlConfig *cfg, const char *text);
static void load_fails(const char *text, const char *want);
static char *print_config(const EtlConfig *cfg);

/* write_ini: text into a fresh temporary file of that mode; the caller
 * unlinks and frees the returned path. */
static char *
write_ini(const char *text, mode_t mode)
{
	char	   *path = strdup("/tmp/wvetl-test-config-XXXXXX");
	int			fd = mkstemp(path);
	size_t		n = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t) n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

/* load_ok: defaults, then text as a file; the load must succeed. */
static void
load_ok(EtlConfig *cfg, const char *text)
{
	char	   *path = write_ini(text, 0600);
	char		err[ETL_ERRLEN] = "";

	config_init(cfg);
	if (!config_load_file(cfg, path, false, err))
		fail_msg("config_load_file failed: %s", err);
	unlink(path);
	free(path);
}

/* load_fails: text must be refused with "PATH:" + want (want holds the
 * line and the message, e.g. "3: unknown key"). */
static void
load_fails(const char *text, const char *want)
{
	char	   *path = write_ini(text, 0600);
	char		err[ETL_ERRLEN] = "";
	char		expect[ETL_ERRLEN];
	EtlConfig	cfg;

	config_init(&cfg);
	assert_false(config_load_file(&cfg, path, false, err));
	snprintf(expect, sizeof(expect), "%s:%s", path, want);
	if (strncmp(err, expect, strlen(expect)) != 0)
		fail_msg("expected [%s...], got [%s]", expect, err);
	config_free(&cfg);
	unlink(path);
	free(path);
}

/* print_config: config_print's output; the caller frees it. */
static char *
print_config(const EtlConfig *cfg)
{
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&text, &len);

	assert_non_null(f);
	config_print(cfg, f);
	fclose(f);
	return text;
}

static void
test_defaults(void **state)
{
	EtlConfig	cfg;
	char		err[ETL_ERRLEN] = "";

	(void) state;
	config_init(&cfg);
	assert_null(cfg.server);
	assert_null(cfg.token);
	assert_string_equal(cfg.timezone, "America/Bogota");
	assert_string_equal(cfg.report, "diagram_4");
	assert_true(cfg.window_s == 86400);
	assert_int_equal(cfg.max_records, 60000);
	assert_true(cfg.timeout_s == 90);
	assert_int_equal(cfg.retries, 5);
	assert_true(cfg.min_interval_s == 0);
	assert_true(cfg.backoff_s == 2);
	assert_true(cfg.maintenance_wait_s == 300);
	assert_true(cfg.max_rejects.percent && cfg.max_rejects.value == 100);
	assert_string_equal(cfg.conninfo, "");
	assert_string_equal(cfg.schema, "wolkvox");
	assert_true(cfg.lock_timeout_s == 60);
	assert_true(cfg.lag_s == 300);
	assert_true(cfg.lookback_s == 3600);
	assert_null(cfg.archive_dir);
	assert_string_equal(cfg.log_level, "info");
	assert_string_equal(cfg.log_format, "text");
	for (int i = 0; i < 24; i++)
		assert_int_equal(cfg.source[i], CONF_DEFAULT);
	/* operation defaults to the server code, else "default" */
	assert_true(config_finish(&cfg, err));
	assert_string_equal(cfg.operation, "default");
	assert_null(config_endpoint(&cfg));
	config_free(&cfg);
}

/* Every type of key, read from a file: strings, durations, integers, the
 * reject limit, the log level and format. */
static void
test_every_type(void **state)
{
	EtlConfig	cfg;
	char		err[ETL_ERRLEN] = "";

	(void) state;
	load_ok(&cfg,
			"[api]\n"
			"server = 0010\n"
			"token = abc123\n"
			"timezone = America/New_York\n"
			"report = diagram_4\n"
			"window = 12h\n"
			"max_records = 500\n"
			"timeout = 1m\n"
			"retries = 0\n"
			"min_interval = 0.5s\n"
			"backoff = 3\n"
			"maintenance_wait = 1d\n"
			"max_rejects = 10\n"
			"ca_file = /etc/ssl/missing-ca.pem\n"
			"[database]\n"
			"conninfo = host=db dbname=dw\n"
			"schema = warehouse\n"
			"[sync]\n"
			"start = 2026-01-01\n"
			"lag = 10m\n"
			"lookback = 2h\n"
			"[archive]\n"
			"dir = /var/lib/wvetl/archive\n"
			"[log]\n"
			"level = debug\n"
			"format = json\n");
	assert_string_equal(cfg.server, "0010");
	assert_string_equal(cfg.token, "abc123");
	assert_string_equal(cfg.timezone, "America/New_York");
	assert_true(cfg.window_s == 43200);
	assert_int_equal(cfg.max_records, 500);
	assert_true(cfg.timeout_s == 60);
	assert_int_equal(cfg.retries, 0);
	assert_true(cfg.min_interval_s == 0.5);
	assert_true(cfg.backoff_s == 3);
	assert_true(cfg.maintenance_wait_s == 86400);
	assert_false(cfg.max_rejects.percent);
	assert_true(cfg.max_rejects.value == 10);
	assert_string_equal(cfg.ca_file, "/etc/ssl/missing-ca.pem");
	assert_string_equal(cfg.conninfo, "host=db dbname=dw");
	assert_string_equal(cfg.schema, "warehouse");
	assert_string_equal(cfg.start, "2026-01-01");
	assert_true(cfg.lag_s == 600);
	assert_true(cfg.lookback_s == 7200);
	assert_string_equal(cfg.archive_dir, "/var/lib/wvetl/archive");
	assert_string_equal(cfg.log_level, "debug");
	assert_string_equal(cfg.log_format, "json");
	/* an unreadable CA file is a configuration error */
	assert_false(config_finish(&cfg, err));
	assert_non_null(strstr(err, "api.ca_file /etc/ssl/missing-ca.pem cannot be read: "
						   "No such file or directory"));
	free(cfg.ca_file);
	cfg.ca_file = strdup("/dev/null");
	assert_true(config_finish(&cfg, err));
	assert_string_equal(cfg.operation, "0010");
	assert_string_equal(config_endpoint(&cfg),
						"https://wv0010.wolkvox.com/api/v2/reports_manager.php");
	config_free(&cfg);
}

/* toolchain-notes.md: a 300-byte value and a ';' inside a value arrive
 * intact (Debian's inih splits lines over 200 bytes and cuts " ;"). */
static void
test_long_value_and_semicolon(void **state)
{
	EtlConfig	cfg;
	char		conninfo[400];
	char		text[1024];

	(void) state;
	/* exactly 300 bytes, with blanks, '=' and ';' along the way */
	snprintf(conninfo, sizeof(conninfo),
			 "host=db.example.internal port=5432 dbname=warehouse user=etl "
			 "application_name=wvetl sslmode=verify-full options='-c search_path=wolkvox' "
			 "target_session_attrs=read-write connect_timeout=10 keepalives=1 ");
	while (strlen(conninfo) < 300)
		strcat(conninfo, "x");
	assert_int_equal(strlen(conninfo), 300);
	snprintf(text, sizeof(text),
			 "[api]\n"
			 "token = abc ;def # not a comment\n"
			 "[database]\n"
			 "conninfo = %s\n", conninfo);
	load_ok(&cfg, text);
	assert_string_equal(cfg.token, "abc ;def # not a comment");
	assert_int_equal(strlen(cfg.conninfo), 300);
	assert_string_equal(cfg.conninfo, conninfo);
	config_free(&cfg);
}

/* Whole-line comments with ';' or '#', indented too; blank lines; CRLF
 * line ends; a backslash is kept as it is (no escapes). */
static void
test_comments_and_blanks(void **state)
{
	EtlConfig	cfg;

	(void) state;
	load_ok(&cfg,
			"; a comment\n"
			"# another\n"
			"\n"
			"[api]\r\n"
			"   ; indented comment\n"
			"\t# indented too\n"
			"server = 7\r\n"
			";server = 8\n"
			"#server = 9\n"
			"[database]\n"
			"conninfo = password=a\\sb\\\\c\n");
	assert_string_equal(cfg.server, "7");
	assert_int_equal(cfg.line[0], 7);
	assert_string_equal(cfg.conninfo, "password=a\\sb\\\\c");
	config_free(&cfg);

	/* a UTF-8 byte order mark at the start is skipped */
	load_ok(&cfg, "\xEF\xBB\xBF[api]\nserver = 8\n");
	assert_string_equal(cfg.server, "8");
	assert_int_equal(cfg.line[0], 2);
	config_free(&cfg);
}

/* Every error names the file and the line. */
static void
test_errors_name_file_and_line(void **state)
{
	(void) state;
	load_fails("[api]\nserver = 1\nbogus = 3\n", "3: unknown key \"api.bogus\"");
	load_fails("[api]\n\ntokne = x\n", "3: unknown key \"api.tokne\"; did you mean \"api.token\"?");
	load_fails("[sync]\nwindow = 1d\n", "2: unknown key \"sync.window\"; did you mean \"api.window\"?");
	load_fails("[api]\nwindow = 3x\n", "2: api.window: invalid value \"3x\" (expected a duration");
	load_fails("[api]\nwindow = \n", "2: api.window: invalid value \"\"");
	load_fails("[api]\nmax_records = -4\n", "2: api.max_records: invalid value \"-4\"");
	load_fails("[api]\nretries = 2.5\n", "2: api.retries: invalid value \"2.5\"");
	load_fails("[api]\nmax_rejects = 101%\n", "2: api.max_rejects: invalid value \"101%\"");
	load_fails("[log]\nlevel = loud\n", "2: log.level: invalid value \"loud\"");
	load_fails("[log]\nformat = xml\n", "2: log.format: invalid value \"xml\" (expected text or json)");
	load_fails("; top\nserver = 1\n", "2: key outside of any [section]");
	load_fails("[api]\nserver 1\n", "2: expected \"key = value\", \"[section]\" or a comment");
	load_fails("[api]\n= 1\n", "2: a key name is missing before '='");
	load_fails("[api\nserver = 1\n", "1: section header without ']'");
	load_fails("[api] x\n", "1: text after the section header's ']'");
	load_fails("[api]\n[databse]\n", "2: unknown section [databse]");
	/* the first error in the file is the one reported */
	load_fails("[api]\nwindow = 1d\n\n[log]\nlevel = info\nnope = 1\n[nope]\n",
			   "6: unknown key \"log.nope\"");
}

static void
test_missing_file(void **state)
{
	EtlConfig	cfg;
	char		err[ETL_ERRLEN] = "";

	(void) state;
	config_init(&cfg);
	assert_true(config_load_file(&cfg, "/nonexistent/wvetl.ini", true, err));
	assert_null(cfg.path);
	assert_false(config_load_file(&cfg, "/nonexistent/wvetl.ini", false, err));
	assert_non_null(strstr(err, "/nonexistent/wvetl.ini"));
	config_free(&cfg);
}

/* default < file < $WOLKVOX_TOKEN < --set; each source recorded. */
static void
test_precedence(void **state)
{
	EtlConfig	cfg;
	char		err[ETL_ERRLEN] = "";

	(void) state;
	unsetenv("WOLKVOX_TOKEN");
	load_ok(&cfg, "[api]\ntoken = from-file\nretries = 7\nbackoff = 1s\n");
	assert_string_equal(cfg.token, "from-file");
	assert_int_equal(cfg.source[2], CONF_FILE);
	assert_int_equal(cfg.line[2], 2);
	assert_true(config_apply_env(&cfg, err));
	assert_string_equal(cfg.token, "from-file");	/* no variable: file stays */

	setenv("WOLKVOX_TOKEN", "from-env", 1);
	assert_true(config_apply_env(&cfg, err));
	assert_string_equal(cfg.token, "from-env");
	assert_int_equal(cfg.source[2], CONF_ENV);
	setenv("WOLKVOX_TOKEN", "", 1);	/* empty: ignored */
	assert_true(config_apply_env(&cfg, err));
	assert_string_equal(cfg.token, "from-env");
	unsetenv("WOLKVOX_TOKEN");

	assert_true(config_set(&cfg, "api.token=from-set", err));
	assert_string_equal(cfg.token, "from-set");
	assert_int_equal(cfg.source[2], CONF_SET);
	assert_true(config_set(&cfg, "api.retries=9", err));
	assert_int_equal(cfg.retries, 9);
	/* a --set value may hold '=' and ';' */
	assert_true(config_set(&cfg, "database.conninfo=host=a password=x;y", err));
	assert_string_equal(cfg.conninfo, "host=a password=x;y");
	/* untouched keys keep their source */
	assert_true(cfg.backoff_s == 1);
	assert_int_equal(cfg.source[10], CONF_FILE);
	assert_int_equal(cfg.source[3], CONF_DEFAULT);

	assert_false(config_set(&cfg, "api.retries=many", err));
	assert_string_equal(err, "--set: api.retries: invalid value \"many\" (expected a non-negative whole number)");
	assert_false(config_set(&cfg, "api.tokn=x", err));
	assert_string_equal(err, "--set: unknown key \"api.tokn\"; did you mean \"api.token\"? "
						"(wvetl --help lists every key)");
	assert_false(config_set(&cfg, "no_dot_here", err));
	assert_string_equal(err, "--set no_dot_here: expected SECTION.KEY=VALUE");
	assert_false(config_set(&cfg, "api.window", err));
	config_free(&cfg);
}

static void
test_durations(void **state)
{
	static const struct
	{
		const char *text;
		double		seconds;
	}			ok[] = {
		{"90s", 90}, {"90", 90}, {"5m", 300}, {"1h", 3600}, {"1d", 86400},
		{"31d", 31 * 86400}, {"0.1s", 0.1}, {"1.5m", 90}, {"0", 0},
	};
	static const char *const bad[] = {"", "s", "5x", "1h30m", "-5s", "5 s", "1.s", "5sec"};
	EtlConfig	cfg;
	char		err[ETL_ERRLEN];
	char		assignment[64];

	(void) state;
	config_init(&cfg);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
	{
		snprintf(assignment, sizeof(assignment), "sync.lag=%s", ok[i].text);
		if (!config_set(&cfg, assignment, err))
			fail_msg("%s: %s", assignment, err);
		if (cfg.lag_s < ok[i].seconds - 1e-9 || cfg.lag_s > ok[i].seconds + 1e-9)
			fail_msg("%s: got %g s", assignment, cfg.lag_s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		snprintf(assignment, sizeof(assignment), "sync.lag=%s", bad[i]);
		if (config_set(&cfg, assignment, err))
			fail_msg("%s was accepted", assignment);
		assert_non_null(strstr(err, "expected a duration"));
	}
	/* cross-key checks name where the value came from */
	assert_true(config_set(&cfg, "api.window=32d", err));
	assert_false(config_finish(&cfg, err));
	assert_string_equal(err, "--set: api.window must be between 1s and 31d (the API's limit)");
	config_free(&cfg);

	load_ok(&cfg, "[api]\n\nwindow = 40d\n");
	assert_false(config_finish(&cfg, err));
	assert_non_null(strstr(err, ":3: api.window must be between 1s and 31d"));
	config_free(&cfg);
}

/* Numbers and durations out of their sane range are refused, naming it;
 * the field keeps its value. */
static void
test_ranges(void **state)
{
	static const struct
	{
		const char *set;
		const char *err;
	}			bad[] = {
		{"api.retries=101", "--set: api.retries: \"101\" is out of range (0 to 100)"},
		{"api.retries=99999999999999999999", "--set: api.retries: \"99999999999999999999\" is out of range (0 to 100)"},
		{"api.max_records=1000000001", "--set: api.max_records: \"1000000001\" is out of range (at most 1000000000)"},
		{"sync.lookback=100000d", "--set: sync.lookback: \"100000d\" is out of range (0s to 366d)"},
		{"sync.lookback=367d", "--set: sync.lookback: \"367d\" is out of range (0s to 366d)"},
		{"sync.lag=32d", "--set: sync.lag: \"32d\" is out of range (0s to 31d)"},
		{"api.timeout=999999999999999d", "--set: api.timeout: \"999999999999999d\" is out of range (at most 1d)"},
		{"api.min_interval=2h", "--set: api.min_interval: \"2h\" is out of range (0s to 1h)"},
		{"api.backoff=61m", "--set: api.backoff: \"61m\" is out of range (0s to 1h)"},
		{"api.maintenance_wait=2d", "--set: api.maintenance_wait: \"2d\" is out of range (0s to 1d)"},
		{"api.max_rejects=1e30", "--set: api.max_rejects: invalid value \"1e30\" (expected a count like 10 or a percent like 1%)"},
		{"api.max_rejects=1000000001", "--set: api.max_rejects: invalid value \"1000000001\" (expected a count like 10 or a percent like 1%)"},
		{"api.retries=-1", "--set: api.retries: invalid value \"-1\" (expected a non-negative whole number)"},
		{"api.retries=+1", "--set: api.retries: invalid value \"+1\" (expected a non-negative whole number)"},
	};
	static const char *const good[] = {
		"api.retries=0", "api.retries=100", "api.max_records=1000000000", "sync.lookback=366d",
		"sync.lag=31d", "api.timeout=1d", "api.min_interval=1h", "api.backoff=0",
		"api.maintenance_wait=1d", "api.max_rejects=1000000000",
	};
	EtlConfig	cfg;
	char		err[ETL_ERRLEN];
	char		name[96];

	(void) state;
	config_init(&cfg);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!config_set(&cfg, good[i], err))
			fail_msg("%s: %s", good[i], err);
	assert_int_equal(cfg.retries, 100);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (config_set(&cfg, bad[i].set, err))
			fail_msg("%s was accepted", bad[i].set);
		assert_string_equal(err, bad[i].err);
	}
	assert_int_equal(cfg.retries, 100);	/* unchanged by the refused values */
	assert_true(cfg.lookback_s == 366 * 86400);

	/* a schema name PostgreSQL would cut */
	memset(name, 'a', sizeof(name));
	memcpy(name, "database.schema=", 16);
	name[16 + 63] = '\0';
	assert_true(config_set(&cfg, name, err));
	assert_true(config_finish(&cfg, err));
	name[16 + 63] = 'a';
	name[16 + 64] = '\0';
	assert_true(config_set(&cfg, name, err));
	assert_false(config_finish(&cfg, err));
	assert_string_equal(err, "--set: database.schema is 64 bytes long: PostgreSQL names have "
						"at most 63 (a longer one would be cut to another name)");
	config_free(&cfg);
}

static void
test_max_rejects(void **state)
{
	EtlConfig	cfg;
	char		err[ETL_ERRLEN];

	(void) state;
	config_init(&cfg);
	assert_true(config_set(&cfg, "api.max_rejects=1%", err));
	assert_true(cfg.max_rejects.percent && cfg.max_rejects.value == 1);
	assert_true(config_set(&cfg, "api.max_rejects=0.5%", err));
	assert_true(cfg.max_rejects.percent && cfg.max_rejects.value == 0.5);
	assert_true(config_set(&cfg, "api.max_rejects=0", err));
	assert_true(!cfg.max_rejects.percent && cfg.max_rejects.value == 0);
	assert_true(config_set(&cfg, "api.max_rejects=250", err));
	assert_true(!cfg.max_rejects.percent && cfg.max_rejects.value == 250);
	assert_false(config_set(&cfg, "api.max_rejects=2.5", err));
	assert_false(config_set(&cfg, "api.max_rejects=-1", err));
	assert_false(config_set(&cfg, "api.max_rejects=%", err));
	assert_false(config_set(&cfg, "api.max_rejects=5%%", err));
	assert_false(config_set(&cfg, "api.max_rejects=many", err));
	assert_non_null(strstr(err, "a count like 10 or a percent like 1%"));
	config_free(&cfg);
}

/* A file holding the token, readable by group or others, raises the flag
 * main turns into a warning; a private file or one without a token not. */
static void
test_insecure_file(void **state)
{
	static const struct
	{
		const char *text;
		mode_t		mode;
		bool		insecure;
	}			cases[] = {
		{"[api]\ntoken = secret\n", 0644, true},
		{"[api]\ntoken = secret\n", 0640, true},
		{"[api]\ntoken = secret\n", 0604, true},
		{"[api]\ntoken = secret\n", 0600, false},
		{"[api]\ntoken = secret\n", 0400, false},
		{"[api]\ntoken = secret\n", 0620, false},	/* writable, not readable */
		{"[api]\nserver = 1\n", 0644, false},
		/* a database password is a secret too, in any spelling libpq reads */
		{"[database]\nconninfo = host=db password=x\n", 0644, true},
		{"[database]\nconninfo = postgresql://u@db/d?sslpassword=k\n", 0640, true},
		{"[database]\nconninfo = host=db password=x\n", 0600, false},
		{"[database]\nconninfo = host=db user=x\n", 0644, false},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *path = write_ini(cases[i].text, cases[i].mode);
		char		err[ETL_ERRLEN] = "";
		EtlConfig	cfg;

		config_init(&cfg);
		assert_true(config_load_file(&cfg, path, false, err));
		if (cfg.insecure_file != cases[i].insecure)
			fail_msg("case %zu (mode %o): insecure_file = %d", i, (unsigned) cases[i].mode,
					 cfg.insecure_file);
		/* still true when $WOLKVOX_TOKEN overrides it: the file holds it */
		setenv("WOLKVOX_TOKEN", "from-env", 1);
		assert_true(config_apply_env(&cfg, err));
		unsetenv("WOLKVOX_TOKEN");
		assert_int_equal(cfg.insecure_file, cases[i].insecure);
		config_free(&cfg);
		unlink(path);
		free(path);
	}
}

/* privacy.*: keep, hash or drop; hash needs a readable key file of at
 * least 16 bytes, read without its final newline, never printed. */
static void
test_privacy(void **state)
{
	char		err[ETL_ERRLEN] = "";
	char	   *key = write_ini("0123456789abcdefXYZ\n", 0644);
	char	   *shortkey = write_ini("short\n", 0600);
	char		ini[512];
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *f;
	EtlConfig	cfg;

	(void) state;
	load_ok(&cfg, "[privacy]\nani = drop\n");
	assert_int_equal(cfg.privacy_ani, PRIVACY_DROP);
	assert_int_equal(cfg.privacy_customer_id, PRIVACY_KEEP);
	assert_true(config_finish(&cfg, err));
	assert_null(cfg.privacy_key);
	config_free(&cfg);

	config_init(&cfg);
	assert_false(config_set(&cfg, "privacy.ani=sha", err));
	assert_string_equal(err, "--set: privacy.ani: invalid value \"sha\" (expected keep, hash or drop)");
	assert_true(config_set(&cfg, "privacy.agent_dni=hash", err));
	assert_false(config_finish(&cfg, err));
	assert_non_null(strstr(err, "hash needs privacy.key_file"));
	assert_true(config_set(&cfg, "privacy.key_file=/nonexistent/key", err));
	assert_false(config_finish(&cfg, err));
	assert_non_null(strstr(err, "privacy.key_file /nonexistent/key cannot be read"));
	config_free(&cfg);

	snprintf(ini, sizeof(ini), "[privacy]\nagent_dni = hash\nkey_file = %s\n", shortkey);
	load_ok(&cfg, ini);
	assert_false(config_finish(&cfg, err));
	assert_non_null(strstr(err, "holds 5 bytes; the key must have at least 16"));
	assert_null(strstr(err, "short"));
	config_free(&cfg);

	snprintf(ini, sizeof(ini), "[privacy]\nani = hash\nkey_file = %s\n", key);
	load_ok(&cfg, ini);
	assert_true(config_finish(&cfg, err));
	assert_int_equal(cfg.privacy_key_len, 19);
	assert_memory_equal(cfg.privacy_key, "0123456789abcdefXYZ", 19);
	assert_true(cfg.key_insecure);
	f = open_memstream(&text, &len);
	config_print(&cfg, f);
	fclose(f);
	assert_non_null(strstr(text, "privacy.ani            = hash"));
	assert_null(strstr(text, "0123456789abcdef"));
	free(text);
	config_free(&cfg);
	unlink(key);
	unlink(shortkey);
	free(key);
	free(shortkey);
}

/* api.server is a server code only; api.base_url https, or http to this
 * machine only; a conninfo libpq cannot parse is refused unseen. */
static void
test_endpoint_checks(void **state)
{
	static const struct
	{
		const char *set;
		bool		ok;
	}			cases[] = {
		{"api.server=0010", true},
		{"api.server=A1b2", true},
		{"api.server=0010.evil.com#", false},
		{"api.server=0010/x", false},
		{"api.server=00 10", false},
		{"api.server=12345678901234567", false},
		{"api.base_url=https://api.example/x/reports_manager.php", true},
		{"api.base_url=http://127.0.0.1:8080/api/v2/reports_manager.php", true},
		{"api.base_url=http://127.1.2.3/x", true},
		{"api.base_url=http://localhost:9/x", true},
		{"api.base_url=http://[::1]:9/x", true},
		{"api.base_url=HTTP://LOCALHOST/x", true},
		{"api.base_url=http://wv0010.wolkvox.com/api/v2/reports_manager.php", false},
		{"api.base_url=http://127.0.0.1.evil.com/x", false},
		{"api.base_url=http://127.0.0.1@evil.com/x", false},
		{"api.base_url=ftp://127.0.0.1/x", false},
		{"api.base_url=https://", false},
		{"api.base_url=wv0010.wolkvox.com", false},
	};
	EtlConfig	cfg;
	char		err[ETL_ERRLEN];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		config_init(&cfg);
		assert_true(config_set(&cfg, cases[i].set, err));
		if (config_finish(&cfg, err) != cases[i].ok)
			fail_msg("%s: %s", cases[i].set, cases[i].ok ? err : "accepted");
		if (!cases[i].ok)
			assert_non_null(strstr(err, strstr(cases[i].set, "server") ? "api.server must be"
									: "api.base_url must be an https:// URL"));
		config_free(&cfg);
	}
	config_init(&cfg);
	assert_true(config_set(&cfg, "database.conninfo=host=db password=a b c", err));
	assert_false(config_finish(&cfg, err));
	assert_string_equal(err, "--set: database.conninfo is not a connection string libpq can "
						"read (not shown: it may hold a password); check its quoting: a value "
						"with blanks goes in single quotes");
	config_free(&cfg);
}

/* config_print: the token and the database password never show; each
 * value names its source, a file value with file:line. */
static void
test_print(void **state)
{
	EtlConfig	cfg;
	char		err[ETL_ERRLEN] = "";
	char	   *out;
	char		want[600];

	(void) state;
	unsetenv("WOLKVOX_TOKEN");
	setenv("PGPASSWORD", "pg-secret-pw", 1);
	setenv("PGHOST", "/var/run/postgresql", 1);
	load_ok(&cfg,
			"[api]\n"
			"server = 0010\n"
			"token = super-secret-token\n"
			"[database]\n"
			"conninfo = host=db password='p w' user=etl\n");
	setenv("WOLKVOX_TOKEN", "env-secret-token", 1);
	assert_true(config_apply_env(&cfg, err));
	unsetenv("WOLKVOX_TOKEN");
	assert_true(config_set(&cfg, "api.window=2h", err));
	assert_true(config_finish(&cfg, err));
	out = print_config(&cfg);
	assert_null(strstr(out, "secret-token"));
	assert_null(strstr(out, "p w"));
	assert_null(strstr(out, "pg-secret-pw"));
	snprintf(want, sizeof(want), "# configuration file: %s\n", cfg.path);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "api.token              = *** (16 characters)"));
	assert_non_null(strstr(out, "# environment (WOLKVOX_TOKEN)\n"));
	snprintf(want, sizeof(want), "0010                           # %s:2\n", cfg.path);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "database.conninfo      = user=etl password=*** host=db"));
	snprintf(want, sizeof(want), "# %s:5\n", cfg.path);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "api.window             = 2h                             # --set\n"));
	assert_non_null(strstr(out, "api.timeout            = 90s                            # default\n"));
	assert_non_null(strstr(out, "sync.lag               = 5m "));
	assert_non_null(strstr(out, "api.max_rejects        = 100% "));
	assert_non_null(strstr(out, "#   PGHOST=/var/run/postgresql\n"));
	assert_non_null(strstr(out, "#   PGPASSWORD=***\n"));
	unsetenv("PGPASSWORD");
	unsetenv("PGHOST");
	free(out);
	config_free(&cfg);
}

/* Passwords in both forms of a libpq connection string, as libpq reads
 * it: every secret option masked (sslpassword too, a URI's query, a
 * keyword given twice); a string libpq cannot parse is not shown. */
static void
test_conninfo_password(void **state)
{
	static const struct
	{
		const char *in;
		const char *masked;
		const char *secrets;	/* the values config_conninfo_secrets gives, '|'-joined */
	}			cases[] = {
		{"host=db password=s3cret user=x", "user=x password=*** host=db", "s3cret"},
		{"password = 's e\\'c' dbname=d", "password=*** dbname=d", "s e'c"},
		{"host=db user=x", "user=x host=db", ""},
		{"postgresql://etl:s3cret@db:5432/dw", "user=etl password=*** dbname=dw host=db port=5432",
		"s3cret"},
		{"postgres://etl@db/dw?password=s3cret&sslmode=require",
		"user=etl password=*** dbname=dw host=db sslmode=require", "s3cret"},
		{"postgresql://etl@db/dw?sslpassword=k3y&password=p%40ss",
		"user=etl password=*** dbname=dw host=db sslpassword=***", "p@ss|k3y"},
		{"host=db password=first password=second", "password=*** host=db", "second"},
		{"host=db sslpassword=k3y", "host=db sslpassword=***", "k3y"},
		{"password=a\\ b host=db", "password=*** host=db", "a b"},
		{"host=db application_name='a b' options='-c x=\\'y\\''",
		"host=db options='-c x=\\'y\\'' application_name='a b'", ""},
		{"postgresql://db/dw", "dbname=dw host=db", ""},
		{"host=db password='unterminated", "*** (libpq cannot parse it; not shown)", ""},
		{"host=db password=a b c", "*** (libpq cannot parse it; not shown)", ""},
		{"", "", ""},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		out[256];
		char		got[256] = "";
		char	   *secrets[4];
		size_t		n = config_conninfo_secrets(cases[i].in, secrets, 4);

		config_mask_conninfo(cases[i].in, out, sizeof(out));
		if (strcmp(out, cases[i].masked) != 0)
			fail_msg("case %zu: [%s], not [%s]", i, out, cases[i].masked);
		for (size_t j = 0; j < n; j++)
		{
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", j ? "|" : "", secrets[j]);
			free(secrets[j]);
		}
		assert_string_equal(got, cases[i].secrets);
	}
}

/* config_print_help: one key, or all of them, with default and help. */
static void
test_print_help(void **state)
{
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&text, &len);
	int			lines = 0;

	(void) state;
	config_print_help(f, "sync.lag");
	fclose(f);
	assert_string_equal(text, "  sync.lag               5m             do not ask for the most recent part of the day\n");
	free(text);

	f = open_memstream(&text, &len);
	config_print_help(f, NULL);
	fclose(f);
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 32);
	assert_non_null(strstr(text, "  database.conninfo      \"\"             "));
	assert_non_null(strstr(text, "  api.token              -              "));
	free(text);
}

/* finish_ok: config_finish must succeed on cfg. */
static void
finish_ok(EtlConfig *cfg)
{
	char		err[ETL_ERRLEN] = "";

	if (!config_finish(cfg, err))
		fail_msg("config_finish failed: %s", err);
}

/* finish_fails: text loads, config_finish refuses it with "PATH:" + want
 * (or with want alone when it does not start with a digit). */
static void
finish_fails(const char *text, const char *want)
{
	char	   *path = write_ini(text, 0600);
	char		err[ETL_ERRLEN] = "";
	char		expect[ETL_ERRLEN];
	EtlConfig	cfg;

	config_init(&cfg);
	assert_true(config_load_file(&cfg, path, false, err));
	assert_false(config_finish(&cfg, err));
	if (want[0] >= '0' && want[0] <= '9')
		snprintf(expect, sizeof(expect), "%s:%s", path, want);
	else
		snprintf(expect, sizeof(expect), "%s", want);
	if (strncmp(err, expect, strlen(expect)) != 0)
		fail_msg("expected [%s...], got [%s]", expect, err);
	config_free(&cfg);
	unlink(path);
	free(path);
}

/*
 * [operation NAME] sections: each operation inherits the top level's keys
 * and overrides those its section sets, written "api.x", "sync.x" or as a
 * bare [api] name; --set wins over every section; a file without sections
 * is its one operation.
 */
static void
test_operations(void **state)
{
	EtlConfig	cfg;
	EtlConfig  *a;
	EtlConfig  *b;
	char		err[ETL_ERRLEN] = "";

	(void) state;
	unsetenv("WOLKVOX_TOKEN");
	load_ok(&cfg, "[api]\nserver = 0042\ntoken = shared-token\nwindow = 2h\n"
			"[sync]\nstart = 2026-01-01\nparallel = 2\n"
			"[operation acme]\ntimezone = America/Lima\n"
			"[operation beta-2]\napi.server = 0099\nsync.start = 2026-02-01\n"
			"token = own-token\napi.window = 3h\n");
	assert_true(config_set(&cfg, "api.retries=9", err));
	finish_ok(&cfg);
	assert_int_equal(cfg.nops, 2);
	assert_int_equal(config_operation_count(&cfg), 2);
	assert_int_equal(cfg.parallel, 2);
	a = config_find_operation(&cfg, "acme");
	b = config_find_operation(&cfg, "beta-2");
	assert_ptr_equal(a, config_operation(&cfg, 0));
	assert_ptr_equal(b, config_operation(&cfg, 1));
	assert_null(config_find_operation(&cfg, "default"));
	assert_string_equal(a->operation, "acme");
	assert_string_equal(a->timezone, "America/Lima");
	assert_int_equal(a->source[3], CONF_SECTION);
	assert_int_equal(a->line[3], 9);
	assert_string_equal(a->server, "0042");	/* inherited, with its source */
	assert_int_equal(a->source[0], CONF_FILE);
	assert_int_equal(a->line[0], 2);
	assert_string_equal(a->token, "shared-token");
	assert_true(a->window_s == 7200);
	assert_string_equal(a->start, "2026-01-01");
	assert_int_equal(a->retries, 9);	/* --set reaches every operation */
	assert_string_equal(config_endpoint(a), "https://wv0042.wolkvox.com/api/v2/reports_manager.php");
	assert_string_equal(b->server, "0099");
	assert_string_equal(b->token, "own-token");
	assert_true(b->window_s == 10800);
	assert_string_equal(b->start, "2026-02-01");
	assert_string_equal(b->timezone, "America/Bogota");
	assert_int_equal(b->retries, 9);
	assert_string_equal(config_endpoint(b), "https://wv0099.wolkvox.com/api/v2/reports_manager.php");
	config_free(&cfg);

	/* $WOLKVOX_TOKEN is the top level's: an operation's own token wins */
	load_ok(&cfg, "[api]\ntoken = file-token\n[operation a]\n[operation b]\ntoken = b-token\n");
	setenv("WOLKVOX_TOKEN", "env-token", 1);
	assert_true(config_apply_env(&cfg, err));
	unsetenv("WOLKVOX_TOKEN");
	finish_ok(&cfg);
	assert_string_equal(cfg.ops[0].token, "env-token");
	assert_string_equal(cfg.ops[1].token, "b-token");
	assert_true(config_set(&cfg, "api.token=set-token", err));
	finish_ok(&cfg);
	assert_string_equal(cfg.ops[1].token, "set-token");
	config_free(&cfg);

	/* no sections: the top level is the one operation */
	load_ok(&cfg, "[api]\nserver = 7\n[sync]\noperation = solo\n");
	finish_ok(&cfg);
	assert_int_equal(config_operation_count(&cfg), 1);
	assert_ptr_equal(config_operation(&cfg, 0), &cfg);
	assert_ptr_equal(config_find_operation(&cfg, "solo"), &cfg);
	config_free(&cfg);
}

/* What an [operation NAME] section refuses, with the file and line. */
static void
test_operation_errors(void **state)
{
	(void) state;
	load_fails("[api]\nserver = 1\n[operation a]\nconninfo = x\n",
			   "4: unknown key \"conninfo\" in [operation a]");
	load_fails("[operation a]\ndatabase.schema = x\n",
			   "2: database.schema is the same for every operation: set it in [database], not in [operation a]");
	load_fails("[operation a]\nsync.operation = b\n",
			   "2: sync.operation cannot be set in [operation a]: the section's NAME is the operation's name");
	load_fails("[operation a]\nsync.parallel = 2\n",
			   "2: sync.parallel is the same for every operation");
	load_fails("[operation a]\nlog.level = debug\n",
			   "2: log.level is the same for every operation");
	load_fails("[operation a]\ntimezon = UTC\n",
			   "2: unknown key \"timezon\" in [operation a]; did you mean \"api.timezone\"?");
	load_fails("[operation a]\napi.window = soon\n",
			   "2: api.window: invalid value \"soon\"");
	load_fails("[operation a]\n[operation b]\n[operation a]\n",
			   "3: [operation a] again (first at line 1)");
	load_fails("[operation a b]\n", "1: [operation a b]: an operation's name is");
	load_fails("[operation ../x]\n", "1: [operation ../x]: an operation's name is");
	load_fails("[operation]\n", "1: unknown section [operation]");
	load_fails("[operations x]\n", "1: unknown section [operations x]");
	finish_fails("[sync]\noperation = x\n[operation a]\n",
				 "2: sync.operation names the one operation of a file without [operation NAME] sections");
	load_fails("[sync]\nparallel = 0\n", "2: sync.parallel: \"0\" is out of range (1 to 64)");
	finish_fails("[api]\nwindow = 1d\n[operation a]\nwindow = 40d\n",
				 "4: api.window must be between 1s and 31d");
}

/*
 * api.token_file: its first line is the token; it wins over a token set
 * farther away (the top level's for an operation), and is an error beside
 * a token set in the same place; an unreadable or empty file is an error
 * that quotes none of it; a file others can read is flagged.
 */
static void
test_token_file(void **state)
{
	char	   *tf = write_ini("file-token-123\n", 0600);
	char	   *open_tf = write_ini("open-token-456 \r\n\n", 0644);
	char	   *two = write_ini("first-line\nsecond-line\n", 0600);
	char	   *empty = write_ini("\n", 0600);
	char		text[1024];
	EtlConfig	cfg;

	(void) state;
	unsetenv("WOLKVOX_TOKEN");
	snprintf(text, sizeof(text), "[api]\ntoken_file = %s\n", tf);
	load_ok(&cfg, text);
	finish_ok(&cfg);
	assert_string_equal(cfg.token, "file-token-123");
	assert_null(cfg.insecure_token_file);
	config_free(&cfg);

	snprintf(text, sizeof(text), "[api]\ntoken = top-token\n[operation a]\n"
			 "[operation b]\ntoken_file = %s\n[operation c]\napi.token_file = %s\n",
			 tf, open_tf);
	load_ok(&cfg, text);
	finish_ok(&cfg);
	assert_string_equal(cfg.token, "top-token");
	assert_string_equal(cfg.ops[0].token, "top-token");
	assert_string_equal(cfg.ops[1].token, "file-token-123");
	assert_string_equal(cfg.ops[2].token, "open-token-456");
	assert_null(cfg.ops[1].insecure_token_file);
	assert_string_equal(cfg.ops[2].insecure_token_file, open_tf);
	config_free(&cfg);

	/* an operation's own token wins over a token_file it inherits */
	snprintf(text, sizeof(text), "[api]\ntoken_file = %s\n[operation a]\ntoken = own\n", tf);
	load_ok(&cfg, text);
	finish_ok(&cfg);
	assert_string_equal(cfg.ops[0].token, "own");
	config_free(&cfg);

	snprintf(text, sizeof(text), "[api]\ntoken = x\ntoken_file = %s\n", tf);
	finish_fails(text, "3: api.token and api.token_file are both set there: keep one");
	snprintf(text, sizeof(text), "[operation a]\ntoken = x\ntoken_file = %s\n", tf);
	finish_fails(text, "3: api.token and api.token_file are both set there: keep one");
	finish_fails("[api]\ntoken_file = /nonexistent/token\n",
				 "2: api.token_file /nonexistent/token cannot be read");
	snprintf(text, sizeof(text), "[api]\ntoken_file = %s\n", two);
	finish_fails(text, "2: api.token_file");
	snprintf(text, sizeof(text), "[api]\ntoken_file = %s\n", empty);
	finish_fails(text, "2: api.token_file");
	{
		char		err[ETL_ERRLEN] = "";

		snprintf(text, sizeof(text), "[api]\ntoken_file = %s\n", two);
		load_ok(&cfg, text);
		assert_false(config_finish(&cfg, err));
		assert_non_null(strstr(err, "must hold the token alone, on its first line"));
		assert_null(strstr(err, "first-line"));
		config_free(&cfg);
	}
	unlink(tf);
	unlink(open_tf);
	unlink(two);
	unlink(empty);
	free(tf);
	free(open_tf);
	free(two);
	free(empty);
}

/* config_print: each operation's keys after the top level's. */
static void
test_print_operations(void **state)
{
	EtlConfig	cfg;
	char	   *text;

	(void) state;
	unsetenv("WOLKVOX_TOKEN");
	load_ok(&cfg, "[api]\ntoken = shared-secret\n[operation acme]\ntimezone = UTC\n");
	finish_ok(&cfg);
	text = print_config(&cfg);
	assert_non_null(strstr(text, "\n[operation acme]  # "));
	assert_non_null(strstr(text, "api.timezone           = UTC"));
	assert_null(strstr(text, "sync.operation"));
	assert_null(strstr(text, "shared-secret"));
	/* an operation lists only the keys it may have of its own */
	assert_null(strstr(strstr(text, "[operation acme]"), "database.schema"));
	assert_non_null(strstr(strstr(text, "[operation acme]"), "sync.start"));
	free(text);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_type),
		cmocka_unit_test(test_long_value_and_semicolon),
		cmocka_unit_test(test_comments_and_blanks),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_max_rejects),
		cmocka_unit_test(test_insecure_file),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_conninfo_password),
		cmocka_unit_test(test_endpoint_checks),
		cmocka_unit_test(test_print_help),
		cmocka_unit_test(test_operations),
		cmocka_unit_test(test_operation_errors),
		cmocka_unit_test(test_token_file),
		cmocka_unit_test(test_print_operations),
		cmocka_unit_test(test_privacy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
