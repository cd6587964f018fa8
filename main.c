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
	const char *arg2;			/* questions set N: N */
	const char *label;			/* questions set N: --label, --min, --max */
	const char *scale_min;
	const char *scale_max;
	bool		reload;
	bool		help;
} CliOptions;

typedef int (*CommandFn) (const CliOptions *cli, EtlConfig *cfg);

/* The command options a command takes (anything else is a usage error). */
#define TAKES_RANGE		0x01	/* --from T --to T, both required */
#define TAKES_RELOAD	0x02	/* --reload */
#define TAKES_OUTPUT	0x04	/* -o FILE */
#define TAKES_FILE		0x08	/* a FILE argument */
#define ENDS_SUMMARY	0x10	/* a run: ends with a summary line */
#define TAKES_QUESTION	0x20	/* questions: [set N --label L --min A --max B] */

typedef struct Command
{
	const char *name;
	CommandFn	fn;
	const char *usage;
	const char *summary;		/* one line, for wvetl --help */
	const char *help;			/* a paragraph, for COMMAND --help */
	unsigned	flags;			/* TAKES_*, ENDS_SUMMARY */
	const char *keys;			/* the configuration keys it reads, for COMMAND --help */
} Command;

static int	cmd_migrate(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_sync(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_backfill(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_replay(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_extract(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_status(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_config(const CliOptions *cli, EtlConfig *cfg);
static int	cmd_questions(const CliOptions *cli, EtlConfig *cfg);

#define API_KEYS "api.server api.base_url api.token api.timezone api.report api.window " \
	"api.max_records api.timeout api.retries api.min_interval api.backoff " \
	"api.maintenance_wait api.ca_file"
#define DB_KEYS "database.conninfo database.schema sync.operation"

static const Command commands[] = {
	{"migrate", cmd_migrate, "migrate",
		"create or upgrade the warehouse schema",
		"Create or upgrade the warehouse schema (versioned, recorded, idempotent).\n"
		"sync, backfill and replay run it by themselves when the schema is missing or old.",
	0, DB_KEYS},
	{"sync", cmd_sync, "sync",
		"load what is new since the last sync (for cron or a systemd timer)",
		"Load from the saved watermark (the first time: sync.start) up to now - sync.lag,\n"
		"re-reading sync.lookback before the watermark, and move the watermark.\n"
		"Meant for cron or a systemd timer: exit 75 means another run holds the lock.",
	ENDS_SUMMARY, API_KEYS " api.max_rejects " DB_KEYS " sync.start sync.lag sync.lookback archive.dir"},
	{"backfill", cmd_backfill, "backfill --from T --to T [--reload]",
		"load a range of history, window by window (resumable)",
		"Load [from, to) window by window. Windows loaded before are skipped, so a\n"
		"re-run after a failure resumes where it stopped; --reload loads them again.\n"
		"Never moves the sync watermark. On a terminal, a progress line shows windows\n"
		"done of total, records, records/s and the time left.",
	TAKES_RANGE | TAKES_RELOAD | ENDS_SUMMARY,
	API_KEYS " api.max_rejects " DB_KEYS " archive.dir"},
	{"replay", cmd_replay, "replay FILE --from T --to T [--reload]",
		"load a saved raw answer body as one window, with no API call",
		"Load a saved raw answer body (plain or .gz, as archive.dir keeps them) as the\n"
		"window [from, to), with no API call.",
	TAKES_FILE | TAKES_RANGE | TAKES_RELOAD | ENDS_SUMMARY,
	"api.timezone api.max_records api.max_rejects " DB_KEYS},
	{"extract", cmd_extract, "extract --from T --to T [-o FILE]",
		"write a range's records as JSON lines; needs no database",
		"Fetch [from, to) and write its records as JSON lines (one API record per line,\n"
		"as the API sent it) to FILE or standard output. Needs no database.",
	TAKES_RANGE | TAKES_OUTPUT | ENDS_SUMMARY, API_KEYS},
	{"status", cmd_status, "status",
		"watermark, recent runs, rows, rejects and gaps, per operation",
		"Print, per operation: the watermark, recent runs, rows, rejects, and any gaps\n"
		"between loaded windows.",
	0, DB_KEYS},
	{"questions", cmd_questions, "questions [set N --label L --min A --max B]",
		"list the survey's question numbers; set a question's label and scale",
		"Without arguments: list the question numbers answered (for sync.operation), with\n"
		"answer counts, the range of numeric answers, and the label and scale when set.\n"
		"With set N: store question N's label and scale in survey_question, which the BI\n"
		"views read; an option left out keeps its value, an empty value clears it. An\n"
		"answer >= the scale's max is a top answer.",
	TAKES_QUESTION, DB_KEYS},
	{"config", cmd_config, "config",
		"print the effective configuration and where each value came from",
		"Print every configuration key with its effective value (the token and any\n"
		"password masked) and where it came from: default, FILE:LINE, environment or\n"
		"--set; then the PG* variables libpq will read.",
	0, NULL},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/*
 * on_signal: the first SIGINT or SIGTERM asks every loop to stop (the
 * window in flight is rolled back, the run recorded as interrupted, exit
 * 130). A second one, when the first is not obeyed fast enough for the
 * user's taste, takes the default action: the process dies at once, and
 * PostgreSQL rolls back whatever its connection had not committed.
 */
static void
on_signal(int sig)
{
	if (pipeline_stop_requested)
	{
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
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
		fprintf(out, "  %-40s %s\n", commands[i].usage, commands[i].summary);
	fprintf(out,
			"\nOptions:\n"
			"  -c, --config FILE      the configuration file (default: $WVETL_CONFIG, else\n"
			"                         ./wvetl.ini when it exists)\n"
			"  --set SECTION.KEY=V    override one key (repeatable); wins over file and env\n"
			"  -q, --quiet            only warnings and errors, no progress line\n"
			"  -v, --verbose          debug messages (-vv: trace)\n"
			"  -h, --help             this help; wvetl COMMAND --help for a command's\n"
			"  -V, --version          the version\n\n"
			"Times T: YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS' or YYYYmmddHHiiss, in api.timezone.\n"
			"Durations: a number with s, m, h or d (a bare number is seconds).\n"
			"Precedence: built-in default < file < environment (WOLKVOX_TOKEN; PG* through\n"
			"libpq) < --set.\n\n"
			"Exit status: 0 done; 1 failed (what was committed stays; a re-run continues);\n"
			"2 usage or configuration error; 75 try later (another run holds the lock, or the\n"
			"token's daily limit is reached); 130 interrupted (SIGINT or SIGTERM).\n\n"
			"Configuration keys (default, meaning):\n");
	config_print_help(out, NULL);
}

/* command_usage: COMMAND --help: usage, what it does, its options with
 * their defaults, and the configuration keys it reads with theirs. */
static void
command_usage(const Command *c, FILE *out)
{
	fprintf(out, "Usage: wvetl [-c FILE] [--set SECTION.KEY=VALUE]... [-q|-v|-vv] %s\n\n%s\n",
			c->usage, c->help);
	fprintf(out, "\nOptions:\n");
	if (c->flags & TAKES_FILE)
		fprintf(out, "  FILE                   the saved answer body, plain or gzipped (required)\n");
	if (c->flags & TAKES_RANGE)
		fprintf(out,
				"  --from T               the first second of the range (required)\n"
				"  --to T                 the end of the range, not included (required)\n"
				"                         T: YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS' or YYYYmmddHHiiss,\n"
				"                         in api.timezone\n");
	if (c->flags & TAKES_RELOAD)
		fprintf(out,
				"  --reload               load windows loaded before again, merging on identity\n"
				"                         (default: skip windows already loaded)\n");
	if (c->flags & TAKES_OUTPUT)
		fprintf(out, "  -o, --output FILE      where the JSON lines go (default: standard output)\n");
	if (c->flags & TAKES_QUESTION)
		fprintf(out,
				"  set N                  set question N's label and scale (default: list)\n"
				"  --label TEXT           the label the views show instead of qNN\n"
				"  --min A, --max B       the question's scale (numbers)\n");
	fprintf(out,
			"  -c, --config FILE      the configuration file (default: $WVETL_CONFIG, else\n"
			"                         ./wvetl.ini when it exists)\n"
			"  --set SECTION.KEY=V    override one configuration key (repeatable)\n"
			"  -q, -v, -vv            quiet (warnings and errors only), debug, trace\n"
			"                         (default: log.level, info)\n");
	if (c->keys != NULL)
	{
		const char *k = c->keys;

		fprintf(out, "\nConfiguration keys it reads (default, meaning):\n");
		while (*k != '\0')
		{
			size_t		n = strcspn(k, " ");
			char		name[64];

			snprintf(name, sizeof(name), "%.*s", (int) n, k);
			config_print_help(out, name);
			k += n;
			while (*k == ' ')
				k++;
		}
		fprintf(out, "  log.level, log.format  and the keys above: see wvetl --help\n");
	}
	if (c->flags & ENDS_SUMMARY)
		fprintf(out, "\nEnds with one summary line on stderr (key=value, or JSON with log.format = json).\n");
}

/* long_option_name: "--from" for a getopt value, for messages. */
static const char *
long_option_name(const struct option *longopts, int val)
{
	for (const struct option *o = longopts; o->name != NULL; o++)
		if (o->val == val)
			return o->name;
	return NULL;
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
		{"label", required_argument, NULL, 'L'},
		{"min", required_argument, NULL, 'm'},
		{"max", required_argument, NULL, 'M'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	opterr = 0;
	optind = 1;
	/* "-" keeps order: non-options come back as argument 1; ":" tells a
	 * missing value (':') from an unknown option ('?'). */
	while ((c = getopt_long(argc, argv, "-:c:qvhVo:", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 1:
				if (cli->command == NULL)
					cli->command = optarg;
				else if (cli->file == NULL)
					cli->file = optarg;
				else if (cli->arg2 == NULL)
					cli->arg2 = optarg;
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
					fprintf(stderr, "wvetl: too many --set options (at most %d)\n", MAX_SETS);
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
			case 'L':
				cli->label = optarg;
				break;
			case 'm':
				cli->scale_min = optarg;
				break;
			case 'M':
				cli->scale_max = optarg;
				break;
			case ':':
				{
					const char *name = long_option_name(longopts, optopt);

					if (name != NULL && optopt != 'c' && optopt != 'o')
						fprintf(stderr, "wvetl: option --%s needs a value\n", name);
					else
						fprintf(stderr, "wvetl: option -%c (--%s) needs a value\n", optopt,
								name ? name : "?");
					return false;
				}
			default:
				if (optopt != 0)
					fprintf(stderr, "wvetl: unknown option -%c\n", optopt);
				else
					fprintf(stderr, "wvetl: unknown option \"%s\"\n", argv[optind - 1]);
				return false;
		}
	}
	return true;
}

/*
 * check_command_args: the options given suit the command (sync takes no
 * --from, only extract takes -o, ...). False with a message.
 */
static bool
check_command_args(const Command *cmd, const CliOptions *cli)
{
	const char *bad = NULL;

	if ((cli->from != NULL || cli->to != NULL) && !(cmd->flags & TAKES_RANGE))
		bad = cli->from != NULL ? "--from" : "--to";
	else if (cli->reload && !(cmd->flags & TAKES_RELOAD))
		bad = "--reload";
	else if (cli->output != NULL && !(cmd->flags & TAKES_OUTPUT))
		bad = "-o/--output";
	else if ((cli->label || cli->scale_min || cli->scale_max) && !(cmd->flags & TAKES_QUESTION))
		bad = "--label/--min/--max";
	if (bad != NULL)
	{
		fprintf(stderr, "wvetl: %s takes no %s option (see wvetl %s --help)\n",
				cmd->name, bad, cmd->name);
		return false;
	}
	if (cli->file != NULL && !(cmd->flags & (TAKES_FILE | TAKES_QUESTION)))
	{
		fprintf(stderr, "wvetl: %s: unexpected argument \"%s\"\n", cmd->name, cli->file);
		return false;
	}
	if (cli->arg2 != NULL && !(cmd->flags & TAKES_QUESTION))
	{
		fprintf(stderr, "wvetl: %s: unexpected argument \"%s\"\n", cmd->name, cli->arg2);
		return false;
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

/* Set once a summary line has been written: main writes one for a run that
 * ended before its command could (a configuration or usage error, a lock
 * held elsewhere, a database that cannot be reached). */
static bool summary_written = false;

/*
 * print_summary_line: the run's last line, for monitoring: key=value (or a
 * JSON object with log.format = json) on stderr. The keys and their order
 * are an interface (README "Commands"): add, never rename. s may be NULL
 * (every count 0).
 */
static void
print_summary_line(const EtlConfig *cfg, const char *command, const PipeStats *s,
				   const char *status, int64_t run_id, double seconds)
{
	static const PipeStats none;
	const LoadCounts *c;
	bool		json = cfg->log_format != NULL && strcmp(cfg->log_format, "json") == 0;
	char		operation[256];

	log_quote(cfg->operation != NULL ? cfg->operation : "-", json, operation,
			  sizeof(operation));
	if (s == NULL)
		s = &none;
	c = &s->counts;
	log_progress_end();
	fprintf(stderr, json
			? "{\"summary\":true,\"command\":\"%s\",\"operation\":%s,\"run\":%lld,"
			"\"status\":\"%s\",\"windows\":%llu,\"skipped\":%llu,\"records\":%llu,"
			"\"inserted\":%llu,\"updated\":%llu,\"duplicates\":%llu,\"rejects\":%llu,"
			"\"api_calls\":%llu,\"bytes\":%llu,\"seconds\":%.3f}\n"
			: "summary command=%s operation=%s run=%lld status=%s windows=%llu skipped=%llu "
			"records=%llu inserted=%llu updated=%llu duplicates=%llu rejects=%llu "
			"api_calls=%llu bytes=%llu seconds=%.3f\n",
			command, operation, (long long) run_id, status,
			(unsigned long long) s->windows_done,
			(unsigned long long) s->windows_skipped,
			(unsigned long long) c->records, (unsigned long long) c->inserted,
			(unsigned long long) c->updated, (unsigned long long) c->duplicates,
			(unsigned long long) c->rejects, (unsigned long long) c->api_calls,
			(unsigned long long) c->bytes, seconds);
	fflush(stderr);
	summary_written = true;
}

/* print_summary: the summary line of a run that went through the pipeline. */
static void
print_summary(const EtlConfig *cfg, const char *command, const Pipeline *p,
			  PipeStatus st, int64_t run_id, double seconds)
{
	print_summary_line(cfg, command, &p->stats, status_name(st), run_id, seconds);
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
			{
				char		msg[512];

				/* recorded (status locked) without marking the holder's
				 * run abandoned; sync's range is not known yet */
				snprintf(msg, sizeof(msg), "operation \"%s\" is being loaded by %s; try again later",
						 cfg->operation, holder);
				log_error("load", "%s", msg);
				if (loader_run_refused(l, command, from, to, "locked", msg))
					print_summary_line(cfg, command, NULL, "locked", loader_run_id(l),
									   now_seconds() - t0);
				rc = EXIT_TRYLATER;
				goto cleanup;
			}
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
			char		msg[256];

			snprintf(msg, sizeof(msg), "sync.start is %s and no watermark exists yet: set "
					 "sync.start to where the first sync begins (YYYY-MM-DD)",
					 cfg->start ? "not a valid time" : "not set");
			log_error("config", "%s", msg);
			if (loader_run_refused(l, command, 0, 0, "config_error", msg))
				print_summary_line(cfg, command, NULL, "config_error", loader_run_id(l),
								   now_seconds() - t0);
			rc = EXIT_USAGE;
			goto cleanup;
		}
		else
			from = wvtime_local_to_epoch(&w);
		to = wvtime_now() - (int64_t) cfg->lag_s;
		if (from >= to)
		{
			/* a run all the same: etl_run records every run */
			log_info("pipeline", "nothing to sync yet: the watermark is within sync.lag of now");
			if (!loader_run_begin(l, command, 0, 0) ||
				!loader_run_end(l, "ok", NULL, NULL))
				goto cleanup;
			print_summary(cfg, command, &p, PIPE_OK, loader_run_id(l), now_seconds() - t0);
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

/* scale_arg_ok: a --min/--max value is a number, or "" (clear). */
static bool
scale_arg_ok(const char *opt, const char *s)
{
	char	   *end = NULL;

	if (s == NULL || *s == '\0')
		return true;
	(void) strtod(s, &end);
	if (end != s && *end == '\0')
		return true;
	fprintf(stderr, "wvetl: questions: %s \"%s\" is not a number\n", opt, s);
	return false;
}

/*
 * cmd_questions: without arguments, list the question numbers answered;
 * with "set N", store question N's label and scale (survey_question).
 */
static int
cmd_questions(const CliOptions *cli, EtlConfig *cfg)
{
	Loader	   *l;
	long		n = 0;
	char	   *end = NULL;
	bool		ok;

	if (cli->file != NULL)
	{
		if (strcmp(cli->file, "set") != 0 || cli->arg2 == NULL)
		{
			fprintf(stderr, "wvetl: questions: expected \"set N\" (see wvetl questions --help)\n");
			return EXIT_USAGE;
		}
		errno = 0;
		n = strtol(cli->arg2, &end, 10);
		if (errno != 0 || end == cli->arg2 || *end != '\0' || n < 1 || n != (int) n)
		{
			fprintf(stderr, "wvetl: questions: set N: \"%s\" is not a question number (1, 2, ...)\n",
					cli->arg2);
			return EXIT_USAGE;
		}
		if (!scale_arg_ok("--min", cli->scale_min) || !scale_arg_ok("--max", cli->scale_max))
			return EXIT_USAGE;
	}
	else if (cli->label != NULL || cli->scale_min != NULL || cli->scale_max != NULL)
	{
		fprintf(stderr, "wvetl: questions: --label, --min and --max go with \"set N\"\n");
		return EXIT_USAGE;
	}
	if ((l = open_warehouse(cfg, true)) == NULL)
		return EXIT_FAILED;
	if (cli->file != NULL)
		ok = loader_questions_set(l, (int) n, cli->label, cli->scale_min, cli->scale_max, stdout);
	else
		ok = loader_questions_list(l, stdout);
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
 * Returns false with the reason in errbuf (the caller logs it; exit 2);
 * cfg is then partly filled and still to be freed.
 */
static bool
load_config(const CliOptions *cli, EtlConfig *cfg, char *errbuf)
{
	const char *path = cli->config_path;
	bool		missing_ok = false;
	char		why[ETL_ERRLEN];

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
		return false;
	for (int i = 0; i < cli->nsets; i++)
		if (!config_set(cfg, cli->sets[i], errbuf))
			return false;
	if (!config_finish(cfg, errbuf))
		return false;
	if (!wvtime_set_zone(cfg->timezone, why))
	{
		etl_seterr(errbuf, "api.timezone: %s", why);
		return false;
	}
	return true;
}

/*
 * setup_logging: level from log.level, overridden by -q/-v/-vv; format from
 * log.format; the token and any database password registered as secrets.
 * Works on a partly loaded configuration too (to report its error).
 */
static void
setup_logging(const CliOptions *cli, const EtlConfig *cfg)
{
	LogLevel	level = LOG_INFO;
	char	   *password = config_conninfo_password(cfg->conninfo);

	if (cfg->log_level != NULL)
		(void) log_parse_level(cfg->log_level, &level);
	if (cli->verbosity < 0)
		level = LOG_WARN;
	else if (cli->verbosity == 1)
		level = LOG_DEBUG;
	else if (cli->verbosity >= 2)
		level = LOG_TRACE;
	log_set_level(level);
	if (cfg->log_format != NULL && strcmp(cfg->log_format, "json") == 0)
		log_set_format(LOG_FORMAT_JSON);
	log_add_secret(cfg->token);
	log_add_secret(password);
	log_add_secret(getenv("PGPASSWORD"));
	free(password);
}

/*
 * summary_status: the summary's status word for a run that ended before
 * writing its own summary; the words of a run that got through the
 * pipeline are status_name()'s. Exit 2 is config_error when the reason was
 * logged by the config stage, else usage_error (usage errors are printed
 * before logging starts, not logged).
 */
static const char *
summary_status(int rc)
{
	const char *stage = log_last_error_stage();

	switch (rc)
	{
		case EXIT_OK:
			return "ok";
		case EXIT_USAGE:
			return stage != NULL && strcmp(stage, "config") == 0 ? "config_error" : "usage_error";
		case EXIT_TRYLATER:
			return "try_later";
		case EXIT_INTERRUPTED:
			return "interrupted";
		default:
			return "failed";
	}
}

int
main(int argc, char **argv)
{
	CliOptions	cli = {0};
	EtlConfig	cfg;
	const Command *cmd = NULL;
	struct sigaction sa;
	char		errbuf[ETL_ERRLEN];
	double		t0 = now_seconds();
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

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* From here on every run of a command that ENDS_SUMMARY ends with a
	 * summary line, whatever stops it. */
	if (!load_config(&cli, &cfg, errbuf))
	{
		setup_logging(&cli, &cfg);
		log_error("config", "%s", errbuf);
		rc = EXIT_USAGE;
		goto done;
	}
	setup_logging(&cli, &cfg);
	if (cfg.insecure_file)
		log_warn("config", "%s holds api.token and is readable by group or others; "
				 "chmod 600 it (or use $WOLKVOX_TOKEN)", cfg.path);
	if (!check_command_args(cmd, &cli))
	{
		rc = EXIT_USAGE;
		goto done;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
	{
		log_error("extract", "cannot initialise libcurl");
		rc = EXIT_FAILED;
		goto done;
	}
	rc = cmd->fn(&cli, &cfg);
	curl_global_cleanup();

done:
	if ((cmd->flags & ENDS_SUMMARY) && !summary_written)
		print_summary_line(&cfg, cmd->name, NULL, summary_status(rc), 0,
						   now_seconds() - t0);
	config_free(&cfg);
	return rc;
}
