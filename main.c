/*
 * main.c
 *   wvetl's command line: options, configuration sources, signals, and the
 *   table of commands. The commands themselves are in cli/ (load_cmds.c:
 *   sync, backfill, replay, extract; admin_cmds.c: migrate, status,
 *   questions, config, grant, revoke; prune.c: prune); every outcome maps to the contract's exit codes.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/wvtime.h"

typedef int (*CommandFn) (const CliOptions *cli, EtlConfig *cfg);

/* The command options a command takes (anything else is a usage error). */
#define TAKES_RANGE		0x01	/* --from T --to T, both required */
#define TAKES_RELOAD	0x02	/* --reload */
#define TAKES_OUTPUT	0x04	/* -o FILE */
#define TAKES_FILE		0x08	/* a FILE argument */
#define ENDS_SUMMARY	0x10	/* a run: ends with a summary line */
#define TAKES_QUESTION	0x20	/* questions: [set N --label L --min A --max B] */
#define TAKES_OPERATION	0x40	/* --operation NAME (repeatable for sync and status) */
#define TAKES_TZ_CHANGE	0x80	/* migrate --change-timezone, --change-privacy */
#define TAKES_ALL		0x100	/* status --all */
#define TAKES_SPAN		0x200	/* --from T, --to T, each optional */
#define TAKES_JSON		0x400	/* --json */
#define TAKES_BEFORE	0x800	/* prune --before T */
#define TAKES_REPAIR	0x1000	/* verify --repair */

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

#define API_KEYS "api.server api.base_url api.token api.timezone api.report api.window " \
	"api.max_records api.timeout api.retries api.min_interval api.backoff " \
	"api.maintenance_wait api.ca_file"
#define DB_KEYS "database.conninfo database.schema database.lock_timeout sync.operation"

static const Command commands[] = {
	{"migrate", cmd_migrate,
		"migrate [--change-timezone] [--change-privacy] [--operation NAME]",
		"create or upgrade the warehouse schema",
		"Create or upgrade the warehouse schema (versioned, recorded, idempotent).\n"
		"sync, backfill and replay run it by themselves when the schema is missing or old.\n"
		"--change-timezone: re-read the operation's stored data, loaded in another zone\n"
		"(etl_state.timezone), in api.timezone: every survey keeps its wall-clock time,\n"
		"so its instant and response_id change; loads in another zone are refused.\n"
		"--change-privacy: record privacy.* as the operation's settings (etl_state):\n"
		"loads with settings other than those recorded are refused; rows stored keep\n"
		"their form.",
	TAKES_TZ_CHANGE | TAKES_OPERATION,
	DB_KEYS " api.timezone privacy.ani privacy.customer_id privacy.agent_dni"},
	{"sync", cmd_sync, "sync",
		"load what is new since the last sync (for cron or a systemd timer)",
		"Load from the saved watermark (the first time: sync.start) up to now - sync.lag,\n"
		"re-reading sync.lookback before the watermark, and move the watermark.\n"
		"Meant for cron or a systemd timer: exit 75 means another run holds the lock.\n"
		"With [operation NAME] sections, syncs every operation (or those named with\n"
		"--operation), sync.parallel at once but never two with the same token, each\n"
		"with its own lock, run and summary line; the exit status is the worst of\n"
		"theirs (1 over 75 over 0).",
	ENDS_SUMMARY | TAKES_OPERATION,
	API_KEYS " api.max_rejects " DB_KEYS " sync.start sync.lag sync.lookback sync.parallel archive.dir"},
	{"backfill", cmd_backfill, "backfill --from T --to T [--reload]",
		"load a range of history, window by window (resumable)",
		"Load [from, to) window by window. Windows loaded before are skipped, so a\n"
		"re-run after a failure resumes where it stopped; --reload loads them again.\n"
		"Never moves the sync watermark. On a terminal, a progress line shows windows\n"
		"done of total, records, records/s and the time left.",
	TAKES_RANGE | TAKES_RELOAD | ENDS_SUMMARY | TAKES_OPERATION,
	API_KEYS " api.max_rejects " DB_KEYS " archive.dir"},
	{"replay", cmd_replay, "replay FILE --from T --to T [--reload]",
		"load a saved raw answer body as one window, with no API call",
		"Load a saved raw answer body (plain or .gz, as archive.dir keeps them) as the\n"
		"window [from, to), with no API call.",
	TAKES_FILE | TAKES_RANGE | TAKES_RELOAD | ENDS_SUMMARY | TAKES_OPERATION,
	"api.timezone api.max_records api.max_rejects " DB_KEYS},
	{"extract", cmd_extract, "extract --from T --to T [-o FILE]",
		"write a range's records as JSON lines; needs no database",
		"Fetch [from, to) and write its records as JSON lines (one API record per line,\n"
		"as the API sent it) to FILE or standard output. Needs no database.",
	TAKES_RANGE | TAKES_OUTPUT | ENDS_SUMMARY | TAKES_OPERATION, API_KEYS},
	{"status", cmd_status, "status [--all]",
		"watermark, recent runs, rows, rejects and gaps, per operation",
		"Print, per operation: the watermark, recent runs (with their whole error), rows,\n"
		"open rejects, and any gaps between loaded windows. With [operation NAME]\n"
		"sections, a table of every configured operation side by side comes first.\n"
		"--all: every operation the warehouse holds, configured or not.",
	TAKES_OPERATION | TAKES_ALL, DB_KEYS},
	{"rejects", cmd_rejects, "rejects [--from T] [--to T] [--json]",
		"list the rejected records still open, and how to retry them",
		"List the operation's rejected records still open (etl_reject): the window each\n"
		"came in, when it was first and last seen, the reason and the record as the API\n"
		"sent it; --from/--to keep those whose window meets [from, to). The text ends\n"
		"with the backfill --reload commands that retry them once their cause is fixed:\n"
		"a reject that loads then, or that the API no longer sends, is marked resolved.\n"
		"--json: one JSON object per reject and line, the record whole as a string.",
	TAKES_SPAN | TAKES_JSON | TAKES_OPERATION, DB_KEYS " api.timezone"},
	{"verify", cmd_verify, "verify [--from T] [--to T] [--repair]",
		"check the rollups against the surveys; --repair rewrites them",
		"Recompute the rollups (rollup_survey, rollup_answer) of the operation's local\n"
		"days that [from, to) touches (default: every day, but those wvetl prune\n"
		"deleted) from the surveys and answers, and the weeks and months holding them\n"
		"from their days; print each rollup cell that differs; exit 1 if any does.\n"
		"--repair: rewrite those days' rollups, under the operation's lock (exit 75\n"
		"while a load holds it), and check again.",
	TAKES_SPAN | TAKES_REPAIR | TAKES_OPERATION, DB_KEYS " api.timezone"},
	{"questions", cmd_questions, "questions [set N --label L --min A --max B --kind K]",
		"list the survey's question numbers; set a question's label, scale and kind",
		"Without arguments: list the question numbers answered (for sync.operation), with\n"
		"answer counts, the range of numeric answers, and the label and scale when set.\n"
		"With set N: store question N's label and scale in survey_question, which the BI\n"
		"views read; an option left out keeps its value, an empty value clears it. An\n"
		"answer >= the scale's max is a top answer. The kind (csat, nps, ces, yes_no,\n"
		"text) gives the views' csat, nps, ces and yes_share figures.",
	TAKES_QUESTION | TAKES_OPERATION, DB_KEYS},
	{"grant", cmd_grant, "grant ROLE [--operation NAME]...",
		"let a PostgreSQL role read the BI views of some operations only",
		"Make ROLE (it must exist: CREATE ROLE ... LOGIN) a read-only reader of the BI\n"
		"views, the dimensions and the rollups, restricted to the operations named\n"
		"(default: every operation of the configuration); repeatable, the grants add up.\n"
		"ROLE never reads survey_response, survey_answer nor the etl_* tables, nor a\n"
		"personal column in clear. Recorded in etl_grant; status lists the grants.",
	TAKES_FILE | TAKES_OPERATION, DB_KEYS},
	{"revoke", cmd_revoke, "revoke ROLE",
		"take back everything grant gave a role",
		"Forget ROLE's grants and revoke its privileges on the warehouse schema.",
	TAKES_FILE, DB_KEYS},
	{"prune", cmd_prune, "prune [--operation NAME]... [--before T]",
		"delete surveys, answers, rejects and archives older than retention.days",
		"Delete, per operation, the surveys answered before the limit, their answers, the\n"
		"rejects of windows ending by then, and the archive files of those windows: the\n"
		"limit is --before T, else retention.days before today, rounded down to a local\n"
		"midnight. In transactions of 10000 surveys: a prune stopped half way leaves a\n"
		"consistent warehouse, and a re-run continues. Keeps the rollups (the days'\n"
		"trends), the loaded windows and the runs; records the limit in\n"
		"etl_state.pruned_before, and the run (command prune, its note the counts).\n"
		"Takes the operation's lock, as loads do (exit 75 while one runs).",
	TAKES_OPERATION | TAKES_BEFORE, DB_KEYS " retention.days archive.dir"},
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
	if (c->flags & TAKES_SPAN)
		fprintf(out, "%s                         (each optional; T as for backfill)\n",
				strcmp(c->name, "verify") == 0
				? "  --from T, --to T       only the local days that [from, to) touches\n"
				: "  --from T, --to T       only the rejects whose window meets [from, to)\n");
	if (c->flags & TAKES_REPAIR)
		fprintf(out, "  --repair               rewrite the rollups of those days from the surveys\n");
	if (c->flags & TAKES_ALL)
		fprintf(out, "  --all                  every operation in the warehouse\n");
	if (c->flags & TAKES_JSON)
		fprintf(out, "  --json                 JSON lines instead of text\n");
	if (c->flags & TAKES_RELOAD)
		fprintf(out,
				"  --reload               load windows loaded before again, merging on identity\n"
				"                         (default: skip windows already loaded)\n");
	if (c->flags & TAKES_OUTPUT)
		fprintf(out, "  -o, --output FILE      where the JSON lines go (default: standard output)\n");
	if (c->flags & TAKES_OPERATION)
		fprintf(out, "%s",
				strcmp(c->name, "sync") == 0 || strcmp(c->name, "status") == 0 ||
				strcmp(c->name, "prune") == 0
				? "  --operation NAME       only this [operation NAME] (repeatable; default: all)\n"
				: "  --operation NAME       the [operation NAME] to work on (needed when the file\n"
				"                         has several)\n");
	if (c->flags & TAKES_BEFORE)
		fprintf(out,
				"  --before T             delete what is older than T's day (its local midnight;\n"
				"                         default: retention.days before today)\n");
	if (c->flags & TAKES_TZ_CHANGE)
		fprintf(out,
				"  --change-timezone      re-read the operation's stored data in its api.timezone\n"
				"                         (it was loaded in etl_state.timezone)\n"
				"  --change-privacy       load the operation with its privacy.* settings from now\n"
				"                         on (recorded in etl_state; rows stored keep their form)\n");
	if (c->flags & TAKES_QUESTION)
		fprintf(out,
				"  set N                  set question N's label and scale (default: list)\n"
				"  --label TEXT           the label the views show instead of qNN\n"
				"  --min A, --max B       the question's scale (numbers)\n"
				"  --kind K               csat, nps, ces, yes_no or text (\"\" clears it)\n");
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
		{"change-timezone", no_argument, NULL, 'Z'},
		{"all", no_argument, NULL, 'A'},
		{"json", no_argument, NULL, 'J'},
		{"repair", no_argument, NULL, 'X'},
		{"change-privacy", no_argument, NULL, 'P'},
		{"before", required_argument, NULL, 'b'},
		{"label", required_argument, NULL, 'L'},
		{"min", required_argument, NULL, 'm'},
		{"max", required_argument, NULL, 'M'},
		{"operation", required_argument, NULL, 'O'},
		{"kind", required_argument, NULL, 'K'},
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
			case 'A':
				cli->all = true;
				break;
			case 'J':
				cli->json = true;
				break;
			case 'X':
				cli->repair = true;
				break;
			case 'Z':
				cli->change_timezone = true;
				break;
			case 'P':
				cli->change_privacy = true;
				break;
			case 'b':
				cli->before = optarg;
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
			case 'O':
				if (cli->noperations >= MAX_OPERATIONS)
				{
					fprintf(stderr, "wvetl: too many --operation options (at most %d)\n",
							MAX_OPERATIONS);
					return false;
				}
				cli->operations[cli->noperations++] = optarg;
				break;
			case 'K':
				cli->kind = optarg;
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

	if ((cli->from != NULL || cli->to != NULL) && !(cmd->flags & (TAKES_RANGE | TAKES_SPAN)))
		bad = cli->from != NULL ? "--from" : "--to";
	else if (cli->reload && !(cmd->flags & TAKES_RELOAD))
		bad = "--reload";
	else if (cli->all && !(cmd->flags & TAKES_ALL))
		bad = "--all";
	else if (cli->repair && !(cmd->flags & TAKES_REPAIR))
		bad = "--repair";
	else if (cli->json && !(cmd->flags & TAKES_JSON))
		bad = "--json";
	else if (cli->change_timezone && !(cmd->flags & TAKES_TZ_CHANGE))
		bad = "--change-timezone";
	else if (cli->before != NULL && !(cmd->flags & TAKES_BEFORE))
		bad = "--before";
	else if (cli->output != NULL && !(cmd->flags & TAKES_OUTPUT))
		bad = "-o/--output";
	else if ((cli->label || cli->scale_min || cli->scale_max || cli->kind) &&
			 !(cmd->flags & TAKES_QUESTION))
		bad = "--label/--min/--max/--kind";
	else if (cli->noperations > 0 && !(cmd->flags & TAKES_OPERATION))
		bad = "--operation";
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
	/* every operation's zone is known (the one a command works in is set
	 * again when it picks its operation); the top level's is left set */
	for (int i = 0; i < cfg->nops; i++)
	{
		if (!wvtime_set_zone(cfg->ops[i].timezone, why))
		{
			etl_seterr(errbuf, "[operation %s] api.timezone: %s", cfg->ops[i].operation, why);
			return false;
		}
	}
	if (!wvtime_set_zone(cfg->timezone, why))
	{
		etl_seterr(errbuf, "api.timezone: %s", why);
		return false;
	}
	return true;
}

static void add_key_secret(const EtlConfig *op);

/*
 * setup_logging: level from log.level, overridden by -q/-v/-vv; format from
 * log.format; the token and any database password registered as secrets.
 * Works on a partly loaded configuration too (to report its error).
 */
static void
setup_logging(const CliOptions *cli, const EtlConfig *cfg)
{
	LogLevel	level = LOG_INFO;
	char	   *secrets[4];
	size_t		nsecrets = config_conninfo_secrets(cfg->conninfo, secrets, 4);

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
	for (int i = 0; i < cfg->nops; i++)
		log_add_secret(cfg->ops[i].token);
	log_add_secret(getenv("PGPASSWORD"));
	for (int i = -1; i < cfg->nops; i++)
		add_key_secret(i < 0 ? cfg : &cfg->ops[i]);
	while (nsecrets > 0)
	{
		log_add_secret(secrets[--nsecrets]);
		free(secrets[nsecrets]);
	}
}

/* token_file_of: the group/other-readable token file of the top level
 * (i = -1) or of operation i, or NULL. */
static const char *
token_file_of(const EtlConfig *cfg, int i)
{
	return i < 0 ? cfg->insecure_token_file : cfg->ops[i].insecure_token_file;
}

/* add_key_secret: an operation's HMAC key, when it is text (a binary key
 * cannot be printed), scrubbed from every log line. */
static void
add_key_secret(const EtlConfig *op)
{
	char	   *key;

	if (op->privacy_key == NULL || memchr(op->privacy_key, '\0', op->privacy_key_len) != NULL)
		return;
	key = strndup(op->privacy_key, op->privacy_key_len);
	log_add_secret(key);
	if (key != NULL)
		explicit_bzero(key, op->privacy_key_len);
	free(key);
}

/* warn_token_files: one warning per api.token_file that group or others
 * can read (several operations may share one). */
static void
warn_token_files(const EtlConfig *cfg)
{
	for (int i = -1; i < cfg->nops; i++)
	{
		const char *f = token_file_of(cfg, i);
		bool		said = false;

		for (int j = -1; j < i && f != NULL && !said; j++)
			said = token_file_of(cfg, j) != NULL && strcmp(token_file_of(cfg, j), f) == 0;
		if (f != NULL && !said)
			log_warn("config", "api.token_file %s is readable by group or others; chmod 600 it", f);
	}
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
		log_warn("config", "%s holds %s and is readable by group or others; chmod 600 it "
				 "(or put the token in $WOLKVOX_TOKEN, a password in ~/.pgpass)",
				 cfg.path, cfg.insecure_what);
	warn_token_files(&cfg);
	for (int i = -1; i < cfg.nops; i++)
	{
		const EtlConfig *op = i < 0 ? &cfg : &cfg.ops[i];

		if (op->key_insecure && (i < 0 || op->privacy_key_file == NULL || !cfg.key_insecure ||
								 strcmp(op->privacy_key_file, cfg.privacy_key_file) != 0))
			log_warn("config", "privacy.key_file %s is readable by group or others; chmod 600 it",
					 op->privacy_key_file);
	}
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
	/* a failure that a SIGINT/SIGTERM caused (a cancelled statement) */
	if (rc == EXIT_FAILED && pipeline_stop_requested)
		rc = EXIT_INTERRUPTED;
	curl_global_cleanup();

done:
	if ((cmd->flags & ENDS_SUMMARY) && !cli_summary_written())
		print_summary_line(cli_summary_config(&cfg), cmd->name, NULL, summary_status(rc), 0,
						   now_seconds() - t0);
	config_free(&cfg);
	return rc;
}
