/*
 * main.c
 *   wvetl's command line: options, configuration sources, signals, and one
 *   function per command. Maps every outcome to the contract's exit codes.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/config.h"
#include "common/log.h"
#include "common/wvtime.h"
#include "pipeline.h"

#define MAX_SETS 64

typedef struct CliOptions
{
	const char *config_path;
	const char *sets[MAX_SETS];
	int			nsets;
	int			verbosity;		/* -q: -1, -v: 1, -vv: 2 */
	const char *command;
	const char *from;
	const char *to;
	const char *output;
	const char *file;			/* replay FILE */
	bool		reload;
	bool		help;
} CliOptions;

typedef int (*CommandFn) (const CliOptions *cli, EtlConfig *cfg);

typedef struct Command
{
	const char *name;
	CommandFn	fn;
	const char *usage;
	const char *help;
} Command;

static int	cmd_migrate(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_sync(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_backfill(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_replay(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_extract(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_status(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_config(const CliOptions *cli, EtlConfig *cfg);

static const Command commands[] = {
	{"migrate", cmd_migrate, "migrate",
	"create or upgrade the warehouse schema (versioned, recorded, idempotent)"},
	{"sync", cmd_sync, "sync",
	"load from the saved watermark (first time: sync.start) up to now - sync.lag,\n"
	"re-reading sync.lookback before the watermark; meant for cron"},
	{"backfill", cmd_backfill, "backfill --from T --to T [--reload]",
	"load [from, to) window by window; windows loaded before are skipped\n"
	"(resumable) unless --reload; never moves the sync watermark"},
	{"replay", cmd_replay, "replay FILE --from T --to T",
	"load a saved raw answer body (plain or .gz) as the window [from, to), no API call"},
	{"extract", cmd_extract, "extract --from T --to T [-o FILE]",
	"fetch the range and write its records as JSON lines (one API record per\n"
	"line) to FILE or stdout; needs no database"},
	{"status", cmd_status, "status",
	"per operation: watermark, recent runs, rows, rejects and gaps between loaded windows"},
	{"config", cmd_config, "config",
	"print the effective configuration (token masked) and where each value came from"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
on_signal(int sig)
{
	(void) sig;
	pipeline_stop_requested = 1;
}

static void
usage(FILE *out)
{
	fprintf(out,
			"wvetl %s - load the Wolkvox Intelligent Survey report (diagram_4) into PostgreSQL\n\n"
			"Usage: wvetl [-c FILE] [--set SECTION.KEY=VALUE]... [-q|-v|-vv] COMMAND [ARGS]\n\n"
			"Commands:\n", WVETL_VERSION);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-36s %.*s\n", commands[i].usage,
				(int) strcspn(commands[i].help, "\n"), commands[i].help);
	fprintf(out,
			"\nOptions:\n"
			"  -c, --config FILE      config file (default: $WVETL_CONFIG, else ./wvetl.ini)\n"
			"  --set SECTION.KEY=V    override one key (repeatable); wins over file and env\n"
			"  -q, --quiet            only warnings and errors\n"
			"  -v, --verbose          debug messages (-vv: trace)\n"
			"  -h, --help             this help; COMMAND --help for a command's\n"
			"  -V, --version          the version\n\n"
			"Times T: YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS' or YYYYmmddHHiiss, in api.timezone.\n"
			"Exit status: 0 done; 1 failed (committed windows stay); 2 usage or configuration\n"
			"error; 75 try later (lock held, or the token's daily limit); 130 interrupted.\n\n"
			"Configuration keys (default, meaning):\n");
	config_print_help(out);
}

static void
command_usage(const Command *c, FILE *out)
{
	fprintf(out, "Usage: wvetl [-c FILE] [--set SECTION.KEY=VALUE]... %s\n\n%s\n", c->usage, c->help);
	fprintf(out, "\nOptions:\n"
			"  --from T, --to T       the range [from, to), local time in api.timezone\n"
			"  --reload               backfill: load windows loaded before again (merge)\n"
			"  -o, --output FILE      extract: write JSON lines here instead of stdout\n"
			"  -c FILE, --set K=V, -q, -v as for wvetl itself (see wvetl --help)\n");
}

/*
 * parse_args: global options, the command, then its options (global ones
 * are accepted after the command too). Returns false on a usage error,
 * having printed it.
 */
static bool
parse_args(int argc, char **argv, CliOptions *cli)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"set", required_argument, NULL, 's'},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"reload", no_argument, NULL, 'r'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	opterr = 0;
	optind = 1;
	/* "-" keeps order: non-options come back as argument 1. */
	while ((c = getopt_long(argc, argv, "-c:qvhVo:", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 1:
				if (cli->command == NULL)
					cli->command = optarg;
				else if (cli->file == NULL)
					cli->file = optarg;
				else
				{
					fprintf(stderr, "wvetl: unexpected argument \"%s\"\n", optarg);
					return false;
				}
				break;
			case 'c':
				cli->config_path = optarg;
				break;
			case 's':
				if (cli->nsets >= MAX_SETS)
				{
					fprintf(stderr, "wvetl: too many --set options\n");
					return false;
				}
				cli->sets[cli->nsets++] = optarg;
				break;
			case 'q':
				cli->verbosity = -1;
				break;
			case 'v':
				cli->verbosity = cli->verbosity < 0 ? 1 : cli->verbosity + 1;
				break;
			case 'h':
				cli->help = true;
				break;
			case 'V':
				printf("wvetl %s\n", WVETL_VERSION);
				exit(EXIT_OK);
			case 'f':
				cli->from = optarg;
				break;
			case 't':
				cli->to = optarg;
				break;
			case 'o':
				cli->output = optarg;
				break;
			case 'r':
				cli->reload = true;
				break;
			default:
				if (optopt != 0)
					fprintf(stderr, "wvetl: option -%c: unknown or missing its value\n", optopt);
				else
					fprintf(stderr, "wvetl: unknown option \"%s\"\n", argv[optind - 1]);
				return false;
		}
	}
	return true;
}

/* parse_time_arg: a --from/--to value -> epoch; false with a message. */
static bool
parse_time_arg(const char *opt, const char *s, int64_t *out)
{
	WallTime	w;

	if (s == NULL)
	{
		fprintf(stderr, "wvetl: %s is required\n", opt);
		return false;
	}
	if (!wvtime_parse_wall(s, strlen(s), &w))
	{
		fprintf(stderr, "wvetl: %s \"%s\": expected YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS' or YYYYmmddHHiiss\n",
				opt, s);
		return false;
	}
	*out = wvtime_local_to_epoch(&w);
	return true;
}

static bool
parse_range(const CliOptions *cli, int64_t *from, int64_t *to)
{
	if (!parse_time_arg("--from", cli->from, from) || !parse_time_arg("--to", cli->to, to))
		return false;
	if (*from >= *to)
	{
		fprintf(stderr, "wvetl: --from must be before --to (the range is [from, to))\n");
		return false;
	}
	return true;
}

/* need_api: the API settings a fetch needs; false with a config message. */
static bool
need_api(const EtlConfig *cfg)
{
	if (config_endpoint(cfg) == NULL)
	{
		log_error("config", "api.server (or api.base_url) is not set: wvetl does not know which "
				  "Wolkvox server to ask");
		return false;
	}
	if (cfg->token == NULL || *cfg->token == '\0')
	{
		log_error("config", "api.token is not set: put it in the config file or in $WOLKVOX_TOKEN");
		return false;
	}
	return true;
}

static ApiClient *
open_api(const EtlConfig *cfg)
{
	ApiOptions	o = {0};
	char		errbuf[ETL_ERRLEN];
	ApiClient  *api;

	o.endpoint = config_endpoint(cfg);
	o.token = cfg->token;
	o.report = cfg->report;
	o.server = cfg->server;
	o.ca_file = cfg->ca_file;
	o.timeout_s = cfg->timeout_s;
	o.min_interval_s = cfg->min_interval_s;
	o.stop = &pipeline_stop_requested;
	api = api_client_new(&o, errbuf);
	if (api == NULL)
		log_error("extract", "%s", errbuf);
	return api;
}

/* open_warehouse: connect and make sure the schema is current. */
static Loader *
open_warehouse(const EtlConfig *cfg, bool migrate)
{
	LoadOptions o = {0};
	Loader	   *l;
	bool		current = false;
	int			applied = 0;

	o.conninfo = cfg->conninfo;
	o.schema = cfg->schema;
	o.operation = cfg->operation;
	o.timezone = cfg->timezone;
	o.report = cfg->report;
	l = loader_connect(&o);
	if (l == NULL)
		return NULL;
	if (!migrate)
		return l;
	if (!loader_schema_current(l, &current))
		goto fail;
	if (!current)
	{
		if (!loader_migrate(l, &applied))
			goto fail;
		log_info("load", "schema %s: %d migrations applied", cfg->schema, applied);
	}
	return l;
fail:
	loader_free(l);
	return NULL;
}

static int
exit_code(PipeStatus st)
{
	switch (st)
	{
		case PIPE_OK:
			return EXIT_OK;
		case PIPE_TRYLATER:
			return EXIT_TRYLATER;
		case PIPE_INTERRUPTED:
			return EXIT_INTERRUPTED;
		case PIPE_FAILED:
			break;
	}
	return EXIT_FAILED;
}

static const char *
status_name(PipeStatus st)
{
	static const char *const names[] = {"ok", "failed", "try_later", "interrupted"};

	return names[st];
}

/*
 * print_summary: the run's last line, for monitoring: key=value (or a JSON
 * object with log.format = json) on stderr.
 */
static void
print_summary(const EtlConfig *cfg, const char *command, const Pipeline *p,
			  PipeStatus st, int64_t run_id, double seconds)
{
	const LoadCounts *c = &p->stats.counts;
	bool		json = strcmp(cfg->log_format, "json") == 0;

	fprintf(stderr, json
			? "{\"summary\":true,\"command\":\"%s\",\"operation\":\"%s\",\"run\":%lld,"
			"\"status\":\"%s\",\"windows\":%llu,\"skipped\":%llu,\"records\":%llu,"
			"\"inserted\":%llu,\"updated\":%llu,\"duplicates\":%llu,\"rejects\":%llu,"
			"\"api_calls\":%llu,\"bytes\":%llu,\"seconds\":%.3f}\n"
			: "summary command=%s operation=%s run=%lld status=%s windows=%llu skipped=%llu "
			"records=%llu inserted=%llu updated=%llu duplicates=%llu rejects=%llu "
			"api_calls=%llu bytes=%llu seconds=%.3f\n",
			command, cfg->operation, (long long) run_id, status_name(st),
			(unsigned long long) p->stats.windows_done,
			(unsigned long long) p->stats.windows_skipped,
			(unsigned long long) c->records, (unsigned long long) c->inserted,
			(unsigned long long) c->updated, (unsigned long long) c->duplicates,
			(unsigned long long) c->rejects, (unsigned long long) c->api_calls,
			(unsigned long long) c->bytes, seconds);
}

static double
now_seconds(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
}

/*
 * run_load: the common body of sync, backfill and replay: connect, migrate,
 * lock the operation, record the run, run the pipeline, record the end.
 */
static int
run_load(const char *command, EtlConfig *cfg, int64_t from, int64_t to,
		 const char *replay_path, bool reload, bool sync)
{
	Pipeline	p = {0};
	Loader	   *l = NULL;
	ApiClient  *api = NULL;
	PipeStatus	st = PIPE_FAILED;
	double		t0 = now_seconds();
	char		holder[256] = "";
	int			rc = EXIT_FAILED;

	if (replay_path == NULL && !need_api(cfg))
		return EXIT_USAGE;
	l = open_warehouse(cfg, true);
	if (l == NULL)
		goto cleanup;
	switch (loader_lock_operation(l, holder, sizeof(holder)))
	{
		case LOCK_OK:
			break;
		case LOCK_BUSY:
			log_error("load", "operation \"%s\" is being loaded by %s; try again later",
					  cfg->operation, holder);
			rc = EXIT_TRYLATER;
			goto cleanup;
		case LOCK_ERROR:
			goto cleanup;
	}
	if (sync)
	{
		int64_t		wm = 0;
		bool		found = false;
		WallTime	w;

		if (!loader_get_watermark(l, &wm, &found))
			goto cleanup;
		if (found)
			from = wm - (int64_t) cfg->lookback_s;
		else if (cfg->start == NULL || !wvtime_parse_wall(cfg->start, strlen(cfg->start), &w))
		{
			log_error("config", "sync.start is %s and no watermark exists yet: set sync.start to "
					  "where the first sync begins (YYYY-MM-DD)",
					  cfg->start ? "not a valid time" : "not set");
			rc = EXIT_USAGE;
			goto cleanup;
		}
		else
			from = wvtime_local_to_epoch(&w);
		to = wvtime_now() - (int64_t) cfg->lag_s;
		if (from >= to)
		{
			log_info("pipeline", "nothing to sync yet: the watermark is within sync.lag of now");
			rc = EXIT_OK;
			goto cleanup;
		}
	}
	if (replay_path == NULL && (api = open_api(cfg)) == NULL)
		goto cleanup;
	if (!loader_run_begin(l, command, from, to))
		goto cleanup;
	log_set_run_id(loader_run_id(l));
	{
		char		a[32];
		char		b[32];

		wvtime_format_local(from, a);
		wvtime_format_local(to, b);
		log_info("pipeline", "%s of operation \"%s\": [%s, %s) %s", command, cfg->operation,
				 a, b, wvtime_zone());
	}

	p.cfg = cfg;
	p.api = api;
	p.loader = l;
	p.replay_path = replay_path;
	p.reload = reload;
	p.move_watermark = sync;
	p.progress = isatty(STDERR_FILENO) && strcmp(cfg->log_format, "json") != 0;
	st = pipeline_run(&p, from, to);
	p.stats.counts.api_calls = api ? api_client_requests(api) : 0;
	if (st != PIPE_OK)
		log_error("pipeline", "%s", p.stats.error);
	if (!loader_run_end(l, status_name(st), &p.stats.counts,
						st == PIPE_OK ? NULL : p.stats.error) && st == PIPE_OK)
		st = PIPE_FAILED;
	print_summary(cfg, command, &p, st, loader_run_id(l), now_seconds() - t0);
	rc = exit_code(st);

cleanup:
	api_client_free(api);
	loader_free(l);
	return rc;
}

static int
cmd_migrate(const CliOptions *cli, EtlConfig *cfg)
{
	Loader	   *l = open_warehouse(cfg, false);
	int			applied = 0;
	bool		ok;

	if (l == NULL)
		return EXIT_FAILED;
	ok = loader_migrate(l, &applied);
	if (ok)
		log_info("load", "schema %s is current (%d migrations applied now)", cfg->schema, applied);
	loader_free(l);
	return ok ? EXIT_OK : EXIT_FAILED;
}

static int
cmd_sync(const CliOptions *cli, EtlConfig *cfg)
{
	return run_load("sync", cfg, 0, 0, NULL, false, true);
}

static int
cmd_backfill(const CliOptions *cli, EtlConfig *cfg)
{
	int64_t		from;
	int64_t		to;

	if (!parse_range(cli, &from, &to))
		return EXIT_USAGE;
	return run_load("backfill", cfg, from, to, NULL, cli->reload, false);
}

static int
cmd_replay(const CliOptions *cli, EtlConfig *cfg)
{
	int64_t		from;
	int64_t		to;

	if (cli->file == NULL)
	{
		fprintf(stderr, "wvetl: replay needs a FILE (a saved answer body, plain or .gz)\n");
		return EXIT_USAGE;
	}
	if (access(cli->file, R_OK) != 0)
	{
		fprintf(stderr, "wvetl: replay: cannot read %s: %s\n", cli->file, strerror(errno));
		return EXIT_USAGE;
	}
	if (!parse_range(cli, &from, &to))
		return EXIT_USAGE;
	return run_load("replay", cfg, from, to, cli->file, cli->reload, false);
}

static int
cmd_extract(const CliOptions *cli, EtlConfig *cfg)
{
	Pipeline	p = {0};
	ApiClient  *api = NULL;
	FILE	   *out = stdout;
	PipeStatus	st = PIPE_FAILED;
	int64_t		from;
	int64_t		to;
	double		t0 = now_seconds();

	if (!parse_range(cli, &from, &to))
		return EXIT_USAGE;
	if (!need_api(cfg))
		return EXIT_USAGE;
	if (cli->output != NULL && strcmp(cli->output, "-") != 0)
	{
		out = fopen(cli->output, "w");
		if (out == NULL)
		{
			log_error("extract", "cannot write %s: %s", cli->output, strerror(errno));
			return EXIT_FAILED;
		}
	}
	api = open_api(cfg);
	if (api != NULL)
	{
		p.cfg = cfg;
		p.api = api;
		p.out = out;
		st = pipeline_run(&p, from, to);
		if (st != PIPE_OK)
			log_error("pipeline", "%s", p.stats.error);
	}
	if (out != stdout && fclose(out) != 0 && st == PIPE_OK)
	{
		log_error("extract", "cannot write %s: %s", cli->output, strerror(errno));
		st = PIPE_FAILED;
	}
	print_summary(cfg, "extract", &p, st, 0, now_seconds() - t0);
	api_client_free(api);
	return exit_code(st);
}

static int
cmd_status(const CliOptions *cli, EtlConfig *cfg)
{
	Loader	   *l = open_warehouse(cfg, false);
	bool		ok;

	if (l == NULL)
		return EXIT_FAILED;
	ok = loader_status(l, stdout);
	loader_free(l);
	return ok ? EXIT_OK : EXIT_FAILED;
}

static int
cmd_config(const CliOptions *cli, EtlConfig *cfg)
{
	config_print(cfg, stdout);
	return EXIT_OK;
}

/*
 * load_config: defaults < file < environment < --set; then cross checks.
 * Returns false (exit 2) with the error printed.
 */
static bool
load_config(const CliOptions *cli, EtlConfig *cfg)
{
	char		errbuf[ETL_ERRLEN];
	const char *path = cli->config_path;
	bool		missing_ok = false;

	config_init(cfg);
	if (path == NULL)
		path = getenv("WVETL_CONFIG");
	if (path == NULL || *path == '\0')
	{
		path = "wvetl.ini";
		missing_ok = true;
	}
	if (!config_load_file(cfg, path, missing_ok, errbuf) ||
		!config_apply_env(cfg, errbuf))
		goto fail;
	for (int i = 0; i < cli->nsets; i++)
		if (!config_set(cfg, cli->sets[i], errbuf))
			goto fail;
	if (!config_finish(cfg, errbuf))
		goto fail;
	if (!wvtime_set_zone(cfg->timezone, errbuf))
	{
		fprintf(stderr, "wvetl: configuration error: api.timezone: %s\n", errbuf);
		return false;
	}
	return true;
fail:
	log_add_secret(cfg->token);
	log_scrub(errbuf, sizeof(errbuf));
	fprintf(stderr, "wvetl: configuration error: %s\n", errbuf);
	return false;
}

static void
setup_logging(const CliOptions *cli, const EtlConfig *cfg)
{
	LogLevel	level = LOG_INFO;

	(void) log_parse_level(cfg->log_level, &level);
	if (cli->verbosity < 0)
		level = LOG_WARN;
	else if (cli->verbosity == 1)
		level = LOG_DEBUG;
	else if (cli->verbosity >= 2)
		level = LOG_TRACE;
	log_set_level(level);
	if (strcmp(cfg->log_format, "json") == 0)
		log_set_format(LOG_FORMAT_JSON);
	log_add_secret(cfg->token);
}

int
main(int argc, char **argv)
{
	CliOptions	cli = {0};
	EtlConfig	cfg;
	const Command *cmd = NULL;
	struct sigaction sa;
	int			rc;

	if (!parse_args(argc, argv, &cli))
	{
		fprintf(stderr, "Try \"wvetl --help\".\n");
		return EXIT_USAGE;
	}
	if (cli.command == NULL)
	{
		usage(cli.help ? stdout : stderr);
		return cli.help ? EXIT_OK : EXIT_USAGE;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, cli.command) == 0)
			cmd = &commands[i];
	if (cmd == NULL)
	{
		fprintf(stderr, "wvetl: unknown command \"%s\"; try \"wvetl --help\"\n", cli.command);
		return EXIT_USAGE;
	}
	if (cli.help)
	{
		command_usage(cmd, stdout);
		return EXIT_OK;
	}
	if (cli.file != NULL && strcmp(cmd->name, "replay") != 0)
	{
		fprintf(stderr, "wvetl: %s: unexpected argument \"%s\"\n", cmd->name, cli.file);
		return EXIT_USAGE;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!load_config(&cli, &cfg))
	{
		config_free(&cfg);
		return EXIT_USAGE;
	}
	setup_logging(&cli, &cfg);
	if (cfg.insecure_file)
		log_warn("config", "%s holds api.token and is readable by group or others; "
				 "chmod 600 it", cfg.path);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
	{
		log_error("extract", "cannot initialise libcurl");
		config_free(&cfg);
		return EXIT_FAILED;
	}
	rc = cmd->fn(&cli, &cfg);
	curl_global_cleanup();
	config_free(&cfg);
	return rc;
}
