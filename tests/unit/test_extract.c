/*
 * tests/unit/test_extract.c
 *   The extract stage: answer classification, envelope messages, backoff,
 *   the gzip archive and extract_file, and api_fetch against a canned HTTP
 *   responder forked by the test (one scripted answer per connection).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/wvtime.h"
#include "extract/extract.h"

/* 2025-02-01 00:00:00 UTC; the tests run in UTC. */
#define T_FEB1	INT64_C(1738368000)
#define DAY		INT64_C(86400)
#define TOKEN	"s3cr3t-T0KEN"

/* ---------------------------------------------------------------- */
/* Classification                                                    */
/* ---------------------------------------------------------------- */

typedef struct ClassifyCase
{
	long		status;
	const char *msg;
	ApiOutcome	want;
} ClassifyCase;

static const ClassifyCase classify_cases[] = {
	{200, NULL, API_OK},
	{200, "5 records were found", API_OK},
	{404, "Validate dates entered", API_EMPTY},
	{404, "  validate DATES entered", API_EMPTY},
	{404, "THE API YOU WANT TO CONSULT DOES NOT EXIST", API_FATAL},
	{404, NULL, API_FATAL},
	{404, "<html>Not Found</html>", API_FATAL},
	{400, "SOME PARAMETERS ARE REQUIRED", API_FATAL},
	{400, "THE API YOU WANT TO CONSULT DOES NOT EXIST", API_FATAL},
	{401, "PLEASE ENTER THE WOLKVOX-TOKEN", API_FATAL},
	{401, NULL, API_FATAL},
	{403, "TOKEN LIMIT EXCEEDED", API_QUOTA},
	{403, " token limit exceeded", API_QUOTA},
	{403, "EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (2)", API_RETRY},
	{403, "exceeds the limit of simultaneous requests per token (2)", API_RETRY},
	{403, "PLEASE VALIDATE TOKEN", API_FATAL},
	{403, " Please validate token", API_FATAL},
	{403, "PLEASE ENTER THE WOLKVOX-TOKEN", API_FATAL},
	{403, "Server under maintenance", API_RETRY_MAINT},
	{403, "", API_RETRY_MAINT},
	{403, NULL, API_RETRY_MAINT},
	{408, NULL, API_RETRY},
	{425, NULL, API_RETRY},
	{429, "Too Many Requests", API_RETRY},
	{500, "Internal Server Error", API_RETRY},
	{502, "<html>Bad Gateway</html>", API_RETRY},
	{503, NULL, API_RETRY},
	{504, NULL, API_RETRY},
	{599, NULL, API_RETRY},
	{405, NULL, API_FATAL},
	{410, NULL, API_FATAL},
	{418, NULL, API_FATAL},
	{451, NULL, API_FATAL},
	{301, NULL, API_FATAL},
	{302, "Found", API_FATAL},
	{307, NULL, API_FATAL},
	{0, NULL, API_RETRY},
};

static void
test_classify_table(void **state)
{
	size_t		i;

	for (i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++)
	{
		const ClassifyCase *k = &classify_cases[i];
		ApiOutcome	got = api_classify(k->status, k->msg);

		if (got != k->want)
			fail_msg("case %zu: %ld \"%s\": got %s, want %s", i, k->status,
					 k->msg ? k->msg : "(null)", api_outcome_name(got),
					 api_outcome_name(k->want));
	}
}

static void
test_outcome_names(void **state)
{
	ApiOutcome	o;
	ApiOutcome	p;

	for (o = API_OK; o <= API_SINK_STOPPED; o++)
	{
		assert_string_not_equal(api_outcome_name(o), "unknown");
		for (p = API_OK; p < o; p++)
			assert_string_not_equal(api_outcome_name(o), api_outcome_name(p));
	}
	assert_string_equal(api_outcome_name(API_QUOTA), "quota");
	assert_string_equal(api_outcome_name((ApiOutcome) 99), "unknown");
}

/* ---------------------------------------------------------------- */
/* Envelope messages                                                 */
/* ---------------------------------------------------------------- */

static bool
envelope(const char *body, char *out, size_t outlen)
{
	return api_envelope_message(body, strlen(body), out, outlen);
}

static void
test_envelope_message(void **state)
{
	char		out[64];

	assert_true(envelope("{\"code\":404,\"error\":null,\"msg\":\"Validate dates entered\",\"data\":[]}",
						 out, sizeof(out)));
	assert_string_equal(out, "Validate dates entered");

	assert_true(envelope("{\"code\":\"200\",\"msg\":\" 1 records were found \"}", out, sizeof(out)));
	assert_string_equal(out, "1 records were found");

	assert_true(envelope("{\"code\":403,\"error\":\"TOKEN LIMIT EXCEEDED\"}", out, sizeof(out)));
	assert_string_equal(out, "TOKEN LIMIT EXCEEDED");

	/* blank msg: error is the message */
	assert_true(envelope("{\"msg\":\"  \",\"error\":\"PLEASE VALIDATE TOKEN\"}", out, sizeof(out)));
	assert_string_equal(out, "PLEASE VALIDATE TOKEN");

	/* msg not a string: error */
	assert_true(envelope("{\"msg\":42,\"error\":\"x\"}", out, sizeof(out)));
	assert_string_equal(out, "x");

	/* the string "null" (CRM style) and JSON null are no message */
	assert_false(envelope("{\"code\":500,\"error\":\"null\"}", out, sizeof(out)));
	assert_false(envelope("{\"code\":500,\"error\":\"NULL\"}", out, sizeof(out)));
	assert_false(envelope("{\"code\":500,\"error\":null,\"msg\":null}", out, sizeof(out)));
	assert_false(envelope("{}", out, sizeof(out)));

	/* not JSON, not an object */
	assert_false(envelope("TOKEN LIMIT EXCEEDED", out, sizeof(out)));
	assert_false(envelope("<html><body>502 Bad Gateway</body></html>", out, sizeof(out)));
	assert_false(envelope("[\"msg\"]", out, sizeof(out)));
	assert_false(envelope("\"msg\"", out, sizeof(out)));
	assert_false(envelope("{\"msg\":\"cut", out, sizeof(out)));
	assert_false(api_envelope_message("", 0, out, sizeof(out)));
	assert_false(api_envelope_message(NULL, 0, out, sizeof(out)));

	/* not NUL-terminated: only len bytes count */
	assert_true(api_envelope_message("{\"msg\":\"ab\"}XXXX", 12, out, sizeof(out)));
	assert_string_equal(out, "ab");

	/* truncated to fit */
	assert_true(envelope("{\"msg\":\"0123456789\"}", out, 5));
	assert_string_equal(out, "0123");
}

/* ---------------------------------------------------------------- */
/* Backoff                                                           */
/* ---------------------------------------------------------------- */

static void
test_backoff(void **state)
{
	int			attempt;
	int			i;
	double		d;

	for (attempt = 0; attempt < 12; attempt++)
	{
		double		full = 2.0 * (double) (1 << attempt);
		double		lo = 1e9;
		double		hi = 0;

		if (full > 1800.0)
			full = 1800.0;
		for (i = 0; i < 200; i++)
		{
			d = api_backoff_delay(API_RETRY, attempt, 2.0, 300.0);
			assert_true(d >= full / 2.0 && d <= full);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		/* there is jitter: 200 draws are not all the same */
		assert_true(hi - lo > full / 100.0);
	}
	/* growth: attempt 3's shortest beats attempt 0's longest */
	assert_true(api_backoff_delay(API_RETRY, 3, 2.0, 300.0) > 2.0);

	/* cap at 30 minutes, also for absurd attempts */
	for (i = 0; i < 50; i++)
	{
		d = api_backoff_delay(API_RETRY, 30 + i * 100, 2.0, 300.0);
		assert_true(d >= 900.0 && d <= 1800.0);
	}
	d = api_backoff_delay(API_RETRY, 2000000000, 2.0, 300.0);
	assert_true(d >= 900.0 && d <= 1800.0);

	/* maintenance uses its own base, and waits at least that long */
	for (i = 0; i < 50; i++)
	{
		d = api_backoff_delay(API_RETRY_MAINT, 0, 2.0, 300.0);
		assert_true(d >= 300.0 && d <= 375.0);
		d = api_backoff_delay(API_RETRY_MAINT, 1, 2.0, 300.0);
		assert_true(d >= 600.0 && d <= 750.0);
		d = api_backoff_delay(API_RETRY_MAINT, 9, 2.0, 300.0);
		assert_true(d >= 1800.0 && d <= 2250.0);
	}

	/* zero base: no wait */
	assert_true(api_backoff_delay(API_RETRY, 5, 0.0, 300.0) == 0.0);
	assert_true(api_backoff_delay(API_RETRY_MAINT, 5, 2.0, 0.0) == 0.0);
	/* negative attempt counts as 0 */
	d = api_backoff_delay(API_RETRY, -3, 2.0, 300.0);
	assert_true(d >= 1.0 && d <= 2.0);
}

/* ---------------------------------------------------------------- */
/* Archive and extract_file                                          */
/* ---------------------------------------------------------------- */

typedef struct Collect
{
	Buf			buf;
	size_t		calls;
	size_t		stop_after;		/* 0: never stop; else stop at that call */
} Collect;

static bool
collect_sink(void *ctx, const char *data, size_t len)
{
	Collect    *c = ctx;

	c->calls++;
	if (c->stop_after != 0 && c->calls >= c->stop_after)
		return false;
	buf_append(&c->buf, data, len);
	return !c->buf.failed;
}

static char *
make_tmpdir(void)
{
	char	   *dir = strdup("/tmp/wvetl-test-extract-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void
rm_rf(const char *path)
{
	char		cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* Count entries of dir (not . and ..); -1 if it cannot be opened. */
static int
dir_count(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	int			n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* A payload with text, multibyte UTF-8 and every byte value. */
static void
make_payload(Buf *b, size_t size)
{
	size_t		i;

	buf_puts(b, "{\"code\":\"200\",\"msg\":\"ok ñ 😀\",\"data\":[");
	for (i = 0; b->len < size; i++)
		buf_putc(b, (char) ((i * 7919) & 0xff));
	assert_false(b->failed);
}

static void
test_archive_round_trip(void **state)
{
	char	   *dir = make_tmpdir();
	char		errbuf[ETL_ERRLEN] = "";
	char		path[640];
	char		month[512];
	Buf			payload = BUF_INIT;
	Collect		got = {BUF_INIT, 0, 0};
	Archive    *a;
	size_t		off = 0;
	size_t		step = 1;
	FILE	   *fp;
	unsigned char magic[2];
	struct stat st;

	make_payload(&payload, 300000);
	a = archive_open(dir, "op 0010/x", "diagram_4", T_FEB1, T_FEB1 + DAY, errbuf);
	assert_non_null(a);
	while (off < payload.len)
	{
		size_t		n = step < payload.len - off ? step : payload.len - off;

		assert_true(archive_write(a, payload.data + off, n));
		off += n;
		step = step * 3 + 1;	/* 1, 4, 13, 40, ... odd chunk sizes */
		if (step > 70000)
			step = 5;
	}
	assert_true(archive_write(a, "", 0));

	/* before commit only the temporary file exists */
	snprintf(month, sizeof(month), "%s/op_0010_x/2025/02", dir);
	assert_int_equal(dir_count(month), 1);
	snprintf(path, sizeof(path), "%s/diagram_4_20250201000000_20250202000000.json.gz", month);
	assert_int_not_equal(access(path, F_OK), 0);

	assert_true(archive_commit(a, errbuf));
	assert_int_equal(dir_count(month), 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(st.st_size > 0);

	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(magic, 1, 2, fp), 2);
	fclose(fp);
	assert_int_equal(magic[0], 0x1f);
	assert_int_equal(magic[1], 0x8b);

	assert_true(extract_file(path, collect_sink, &got, errbuf));
	assert_int_equal(got.buf.len, payload.len);
	assert_memory_equal(got.buf.data, payload.data, payload.len);
	assert_true(got.calls >= 2); /* 64 KiB chunks */

	buf_free(&payload);
	buf_free(&got.buf);
	rm_rf(dir);
	free(dir);
}

static void
test_archive_abort_and_null(void **state)
{
	char	   *dir = make_tmpdir();
	char		errbuf[ETL_ERRLEN] = "";
	char		month[512];
	Archive    *a;

	a = archive_open(dir, "..", "diagram_4", T_FEB1, T_FEB1 + 3600, errbuf);
	assert_non_null(a);
	assert_true(archive_write(a, "{\"x\":1}", 7));
	/* ".." cannot climb: it became a plain directory name */
	snprintf(month, sizeof(month), "%s/_./2025/02", dir);
	assert_int_equal(dir_count(month), 1);
	archive_abort(a);
	assert_int_equal(dir_count(month), 0);
	assert_int_equal(dir_count(dir), 1);	/* just "_." */

	/* a NULL archive is "no archive" */
	assert_true(archive_write(NULL, "abc", 3));
	assert_true(archive_commit(NULL, errbuf));
	archive_abort(NULL);

	/* an empty body still makes a valid (empty) archive */
	a = archive_open(dir, "op", "diagram_4", T_FEB1, T_FEB1 + 1, errbuf);
	assert_non_null(a);
	assert_true(archive_commit(a, errbuf));

	/* failures say why */
	assert_null(archive_open(NULL, "op", "diagram_4", T_FEB1, T_FEB1 + 1, errbuf));
	assert_null(archive_open("/proc/version/x", "op", "diagram_4", T_FEB1, T_FEB1 + 1, errbuf));
	assert_non_null(strstr(errbuf, "cannot create directory"));

	rm_rf(dir);
	free(dir);
}

static void
test_extract_file_plain_and_errors(void **state)
{
	char	   *dir = make_tmpdir();
	char		errbuf[ETL_ERRLEN] = "";
	char		path[512];
	Buf			payload = BUF_INIT;
	Collect		got = {BUF_INIT, 0, 0};
	Collect		stop = {BUF_INIT, 0, 2};
	FILE	   *fp;
	gzFile		gz;

	/* plain file */
	make_payload(&payload, 200000);
	snprintf(path, sizeof(path), "%s/body.json", dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(payload.data, 1, payload.len, fp), payload.len);
	fclose(fp);
	assert_true(extract_file(path, collect_sink, &got, errbuf));
	assert_int_equal(got.buf.len, payload.len);
	assert_memory_equal(got.buf.data, payload.data, payload.len);

	/* the sink says stop */
	assert_false(extract_file(path, collect_sink, &stop, errbuf));
	assert_string_equal(errbuf, "stopped");
	assert_int_equal(stop.calls, 2);

	/* empty file: no chunks, success */
	snprintf(path, sizeof(path), "%s/empty.json", dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	fclose(fp);
	buf_reset(&got.buf);
	got.calls = 0;
	assert_true(extract_file(path, collect_sink, &got, errbuf));
	assert_int_equal(got.calls, 0);

	/* missing file */
	snprintf(path, sizeof(path), "%s/nope.json.gz", dir);
	assert_false(extract_file(path, collect_sink, &got, errbuf));
	assert_non_null(strstr(errbuf, "nope.json.gz"));
	assert_non_null(strstr(errbuf, "No such file"));

	/* a gzip file cut short is an error, not a short body */
	snprintf(path, sizeof(path), "%s/cut.json.gz", dir);
	gz = gzopen(path, "wb6");
	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, payload.data, (unsigned) payload.len), (int) payload.len);
	assert_int_equal(gzclose(gz), Z_OK);
	assert_int_equal(truncate(path, 1000), 0);
	assert_false(extract_file(path, collect_sink, &got, errbuf));
	assert_non_null(strstr(errbuf, "cannot read"));

	buf_free(&payload);
	buf_free(&got.buf);
	buf_free(&stop.buf);
	rm_rf(dir);
	free(dir);
}

/* ---------------------------------------------------------------- */
/* api_fetch against a canned responder                              */
/* ---------------------------------------------------------------- */

typedef struct Canned
{
	const char *data;
	size_t		len;
	int			stall_s;		/* sleep after writing, before closing */
} Canned;

typedef struct Mock
{
	pid_t		pid;
	int			port;
	char		reqfile[256];	/* the requests received, appended */
} Mock;

/* mock_serve: the child: one canned answer per accepted connection. */
static void
mock_serve(int lfd, const Canned *answers, size_t n, const char *reqfile)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		char		req[8192];
		size_t		got = 0;
		int			fd = accept(lfd, NULL, NULL);
		FILE	   *fp;

		if (fd < 0)
			_exit(1);
		while (got < sizeof(req) - 1)
		{
			ssize_t		r = read(fd, req + got, sizeof(req) - 1 - got);

			if (r <= 0)
				break;
			got += (size_t) r;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		fp = fopen(reqfile, "ab");
		if (fp != NULL)
		{
			fwrite(req, 1, got, fp);
			fclose(fp);
		}
		if (write(fd, answers[i].data, answers[i].len) < 0)
			_exit(1);
		if (answers[i].stall_s > 0)
			sleep((unsigned) answers[i].stall_s);
		close(fd);
	}
	_exit(0);
}

static void
mock_start(Mock *m, const Canned *answers, size_t n)
{
	struct sockaddr_in sa;
	socklen_t	slen = sizeof(sa);
	int			lfd = socket(AF_INET, SOCK_STREAM, 0);
	int			fd;

	assert_true(lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *) &sa, &slen), 0);
	m->port = ntohs(sa.sin_port);
	snprintf(m->reqfile, sizeof(m->reqfile), "/tmp/wvetl-test-extract-req.%ld",
			 (long) getpid());
	fd = open(m->reqfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);

	m->pid = fork();
	assert_true(m->pid >= 0);
	if (m->pid == 0)
		mock_serve(lfd, answers, n, m->reqfile);
	close(lfd);
}

/* mock_stop: end the responder (it may be stalling) and return what it got. */
static char *
mock_stop(Mock *m)
{
	FILE	   *fp;
	char	   *text = calloc(1, 65536);

	kill(m->pid, SIGTERM);
	waitpid(m->pid, NULL, 0);
	assert_non_null(text);
	fp = fopen(m->reqfile, "rb");
	assert_non_null(fp);
	if (fread(text, 1, 65535, fp) == 0)
		text[0] = '\0';
	fclose(fp);
	unlink(m->reqfile);
	return text;
}

static ApiClient *
mock_client(const Mock *m, const char *path, double timeout, double interval,
			const volatile sig_atomic_t *stop)
{
	char		endpoint[256];
	char		errbuf[ETL_ERRLEN] = "";
	ApiOptions	opt = {0};
	ApiClient  *c;

	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d%s", m->port, path);
	opt.endpoint = endpoint;
	opt.token = TOKEN;
	opt.report = "diagram_4";
	opt.server = "0010";
	opt.timeout_s = timeout;
	opt.min_interval_s = interval;
	opt.stop = stop;
	c = api_client_new(&opt, errbuf);
	if (c == NULL)
		fail_msg("api_client_new: %s", errbuf);
	return c;
}

#define CANNED(s) {s, sizeof(s) - 1, 0}
#define CANNED_STALL(s, secs) {s, sizeof(s) - 1, secs}

/* One request, one canned answer; returns the request text (free it). */
static char *
fetch_one(const Canned *answer, ApiResult *res, Collect *got, double timeout)
{
	Mock		m;
	ApiClient  *c;

	mock_start(&m, answer, 1);
	c = mock_client(&m, "/api/v2/reports_manager.php", timeout, 0, NULL);
	api_fetch(c, T_FEB1, T_FEB1 + DAY, collect_sink, got, res);
	assert_int_equal(api_client_requests(c), 1);
	api_client_free(c);
	return mock_stop(&m);
}

static void
test_fetch_ok(void **state)
{
	static const Canned ok = CANNED("HTTP/1.1 200 OK\r\n"
									"Content-Type: application/json\r\n"
									"Content-Length: 27\r\n"
									"Connection: close\r\n\r\n"
									"{\"code\":200,\"data\":[1,2,3]}");
	ApiResult	res;
	Collect		got = {BUF_INIT, 0, 0};
	char	   *req = fetch_one(&ok, &res, &got, 5);

	assert_int_equal(res.outcome, API_OK);
	assert_int_equal(res.http_status, 200);
	assert_int_equal(res.bytes, 27);
	assert_string_equal(res.content_type, "application/json");
	assert_int_equal(res.head_len, 27);
	assert_memory_equal(res.head, "{\"code\":200,", 12);
	assert_int_equal(got.buf.len, 27);
	assert_memory_equal(got.buf.data, "{\"code\":200,\"data\":[1,2,3]}", 27);
	assert_string_equal(res.message, "");

	/* the request: query, headers; date_end is to - 1 s */
	assert_non_null(strstr(req, "GET /api/v2/reports_manager.php?api=diagram_4"
						   "&date_ini=20250201000000&date_end=20250201235959 HTTP/1.1\r\n"));
	assert_non_null(strstr(req, "\r\nwolkvox-token: " TOKEN "\r\n"));
	assert_non_null(strstr(req, "\r\nwolkvox_server: 0010\r\n"));
	assert_non_null(strstr(req, "\r\nAccept: application/json\r\n"));
	assert_non_null(strstr(req, "\r\nAccept-Encoding: "));
	free(req);
	buf_free(&got.buf);
}

static void
test_fetch_deflate(void **state)
{
	char		body[20000];
	unsigned char z[30000];
	uLongf		zlen = sizeof(z);
	char		answer[40000];
	int			hlen;
	Canned		canned;
	ApiResult	res;
	Collect		got = {BUF_INIT, 0, 0};
	size_t		i;

	for (i = 0; i < sizeof(body); i++)
		body[i] = "[{\"q01\":\"5\"},"[i % 13];
	assert_int_equal(compress2(z, &zlen, (const Bytef *) body, sizeof(body), 6), Z_OK);
	hlen = snprintf(answer, sizeof(answer),
					"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n"
					"Content-Length: %lu\r\nConnection: close\r\n\r\n",
					(unsigned long) zlen);
	memcpy(answer + hlen, z, zlen);
	canned.data = answer;
	canned.len = (size_t) hlen + zlen;
	canned.stall_s = 0;

	free(fetch_one(&canned, &res, &got, 5));
	assert_int_equal(res.outcome, API_OK);
	assert_int_equal(res.bytes, sizeof(body));	/* decoded bytes */
	assert_int_equal(got.buf.len, sizeof(body));
	assert_memory_equal(got.buf.data, body, sizeof(body));
	buf_free(&got.buf);
}

typedef struct ErrorCase
{
	Canned		answer;
	ApiOutcome	want;
	const char *message;		/* expected substring of res.message */
} ErrorCase;

static void
test_fetch_errors(void **state)
{
	static const ErrorCase cases[] = {
		{CANNED("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
				"Connection: close\r\n\r\n"
				"{\"code\":404,\"error\":null,\"msg\":\"Validate dates entered\",\"data\":[]}"),
		 API_EMPTY, "HTTP 404: Validate dates entered"},
		{CANNED("HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n"
				"Content-Length: 22\r\nConnection: close\r\n\r\n"
				"<html>Not Found</html>"),
		 API_FATAL, "HTTP 404 (text/html): \"<html>Not Found</html>\""},
		{CANNED("HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
				"Connection: close\r\n\r\n"
				"{\"code\":403,\"error\":\"TOKEN LIMIT EXCEEDED\",\"msg\":\" TOKEN LIMIT EXCEEDED\"}"),
		 API_QUOTA, "HTTP 403: TOKEN LIMIT EXCEEDED"},
		{CANNED("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n"
				"PLEASE VALIDATE TOKEN " TOKEN "\r\n\001\002"),
		 API_FATAL, "HTTP 403: \"PLEASE VALIDATE TOKEN ***????\""},
		{CANNED("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
		 API_RETRY_MAINT, "HTTP 403 (empty body)"},
		{CANNED("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n"
				"{\"code\":401,\"msg\":\"PLEASE ENTER THE WOLKVOX-TOKEN\"}"),
		 API_FATAL, "HTTP 401: PLEASE ENTER THE WOLKVOX-TOKEN"},
		{CANNED("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\n"
				"Connection: close\r\n\r\n<html>busy</html>"),
		 API_RETRY, "HTTP 503 (text/html): \"<html>busy</html>\""},
		{CANNED("HTTP/1.1 302 Found\r\nLocation: http://elsewhere.example/x\r\n"
				"Content-Length: 0\r\nConnection: close\r\n\r\n"),
		 API_FATAL, "HTTP 302: unexpected redirect to http://elsewhere.example/x"},
		{CANNED("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
				"{\"data\":[1"),
		 API_RETRY, "body cut after 10 bytes (expected 1000)"},
		{CANNED("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
				"a\r\n{\"data\":[1\r\n"),
		 API_RETRY, "body cut after 10 bytes"},
		{CANNED("garbage\r\n\r\n"), API_RETRY, "request to 127.0.0.1:"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		ApiResult	res;
		Collect		got = {BUF_INIT, 0, 0};

		free(fetch_one(&cases[i].answer, &res, &got, 5));
		if (res.outcome != cases[i].want || strstr(res.message, cases[i].message) == NULL)
			fail_msg("case %zu: got %s \"%s\", want %s \"%s\"", i,
					 api_outcome_name(res.outcome), res.message,
					 api_outcome_name(cases[i].want), cases[i].message);
		assert_null(strstr(res.message, TOKEN));
		assert_null(memmem(res.head, res.head_len, TOKEN, strlen(TOKEN)));
		/* only a 200 body reaches the sink */
		if (res.http_status != 200)
			assert_int_equal(got.calls, 0);
		buf_free(&got.buf);
	}
}

static void
test_fetch_no_server(void **state)
{
	Mock		m;
	ApiClient  *c;
	ApiResult	res;
	Collect		got = {BUF_INIT, 0, 0};
	char		want[64];
	static const Canned none = CANNED("");

	/* a port that was just free: start and stop a responder on it */
	mock_start(&m, &none, 0);
	free(mock_stop(&m));
	c = mock_client(&m, "/", 2, 0, NULL);
	assert_int_equal(api_fetch(c, T_FEB1, T_FEB1 + DAY, collect_sink, &got, &res), API_RETRY);
	snprintf(want, sizeof(want), "cannot connect to 127.0.0.1:%d: ", m.port);
	assert_non_null(strstr(res.message, want));
	assert_int_equal(res.http_status, 0);
	api_client_free(c);
	buf_free(&got.buf);
}

static void
test_fetch_stall(void **state)
{
	static const Canned stall[] = {
		/* body bytes, then silence: curl's low-speed check averages over
		 * a few seconds and would notice late; "no data for timeout_s"
		 * must hold from the last byte */
		CANNED_STALL("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
					 "{\"code\":200,\"data\":[{\"a\":\"0123456789abcdefghij\"}", 6),
	};
	ApiResult	res;
	Collect		got = {BUF_INIT, 0, 0};
	struct timespec t0,
				t1;
	double		took;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	free(fetch_one(stall, &res, &got, 1));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_int_equal(res.outcome, API_RETRY);
	assert_string_equal(res.message, "no data for 1 s (HTTP 200, 48 body bytes received)");
	if (took >= 3.0)
		fail_msg("a stall after 48 bytes was given up after %.1f s, want about 1-2 s", took);
	assert_int_equal(got.buf.len, 48);
	buf_reset(&got.buf);

	/* connected, but no answer at all (the API computing for too long) */
	{
		static const Canned silent = CANNED_STALL("", 5);

		free(fetch_one(&silent, &res, &got, 1));
		assert_int_equal(res.outcome, API_RETRY);
		assert_string_equal(res.message, "no data for 1 s (no answer yet)");
	}
	buf_free(&got.buf);
}

static void
test_fetch_sink_stop_and_interval(void **state)
{
	static const Canned two[] = {
		CANNED("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\n[1,2"),
		CANNED("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"),
	};
	Mock		m;
	ApiClient  *c;
	ApiResult	res;
	Collect		stop = {BUF_INIT, 0, 1};
	Collect		got = {BUF_INIT, 0, 0};
	struct timespec t0,
				t1;
	double		took;
	char	   *req;

	mock_start(&m, two, 2);
	c = mock_client(&m, "/x.php?server=1", 5, 0.4, NULL);
	assert_int_equal(api_fetch(c, T_FEB1, T_FEB1 + 60, collect_sink, &stop, &res),
					 API_SINK_STOPPED);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(api_fetch(c, T_FEB1, T_FEB1 + 60, collect_sink, &got, &res), API_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(took >= 0.39);
	assert_int_equal(api_client_requests(c), 2);
	assert_int_equal(got.buf.len, 2);
	api_client_free(c);
	req = mock_stop(&m);
	/* an endpoint with a query gets '&', and date_end is to - 1 s */
	assert_non_null(strstr(req, "GET /x.php?server=1&api=diagram_4&date_ini=20250201000000"
						   "&date_end=20250201000059 HTTP"));
	free(req);
	buf_free(&stop.buf);
	buf_free(&got.buf);
}

static volatile sig_atomic_t stop_flag = 0;

static void
on_alarm(int sig)
{
	stop_flag = 1;
}

static void
test_fetch_stop_flag(void **state)
{
	static const Canned stall[] = {
		CANNED_STALL("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 10),
	};
	Mock		m;
	ApiClient  *c;
	ApiResult	res;
	Collect		got = {BUF_INIT, 0, 0};
	struct sigaction sa;
	struct itimerval it;
	struct timespec t0,
				t1;
	double		took;

	/* set before the request: no request is made */
	mock_start(&m, stall, 1);
	c = mock_client(&m, "/", 30, 0, &stop_flag);
	stop_flag = 1;
	assert_int_equal(api_fetch(c, T_FEB1, T_FEB1 + 60, collect_sink, &got, &res),
					 API_SINK_STOPPED);
	assert_string_equal(res.message, "interrupted");
	assert_int_equal(api_client_requests(c), 0);

	/* set by a signal while waiting for data (30 s no-data timeout): the
	 * transfer ends within about a second */
	stop_flag = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 300000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(api_fetch(c, T_FEB1, T_FEB1 + 60, collect_sink, &got, &res),
					 API_SINK_STOPPED);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_string_equal(res.message, "interrupted");
	assert_int_equal(api_client_requests(c), 1);
	assert_true(took < 3.0);
	assert_int_equal(stop_flag, 1);

	stop_flag = 0;
	sa.sa_handler = SIG_DFL;
	sigaction(SIGALRM, &sa, NULL);
	api_client_free(c);
	free(mock_stop(&m));
	buf_free(&got.buf);
}

static void
test_client_new_errors(void **state)
{
	char		errbuf[ETL_ERRLEN] = "";
	ApiOptions	opt = {0};

	opt.endpoint = "http://127.0.0.1:1/";
	opt.report = "diagram_4";
	assert_null(api_client_new(&opt, errbuf));
	assert_string_equal(errbuf, "no API token");

	opt.token = "abc\r\nX-Evil: 1";
	assert_null(api_client_new(&opt, errbuf));
	assert_non_null(strstr(errbuf, "control characters"));
	assert_null(strstr(errbuf, "abc"));

	opt.token = TOKEN;
	opt.endpoint = "";
	assert_null(api_client_new(&opt, errbuf));
	assert_string_equal(errbuf, "no API endpoint");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_table),
		cmocka_unit_test(test_outcome_names),
		cmocka_unit_test(test_envelope_message),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_archive_round_trip),
		cmocka_unit_test(test_archive_abort_and_null),
		cmocka_unit_test(test_extract_file_plain_and_errors),
		cmocka_unit_test(test_fetch_ok),
		cmocka_unit_test(test_fetch_deflate),
		cmocka_unit_test(test_fetch_errors),
		cmocka_unit_test(test_fetch_no_server),
		cmocka_unit_test(test_fetch_stall),
		cmocka_unit_test(test_fetch_sink_stop_and_interval),
		cmocka_unit_test(test_fetch_stop_flag),
		cmocka_unit_test(test_client_new_errors),
	};
	char		errbuf[ETL_ERRLEN];
	int			rc;

	signal(SIGPIPE, SIG_IGN);
	if (!wvtime_set_zone("UTC", errbuf))
	{
		fprintf(stderr, "%s\n", errbuf);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("extract", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
