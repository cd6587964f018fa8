/*
 * cli/admin_cmds.c
 *   The warehouse's upkeep and what it shows: migrate, status, rejects,
 *   questions, grant and revoke, and config (which needs no warehouse).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"

/*
 * change_timezone: `migrate --change-timezone`: re-read the operation's
 * stored data from the zone it was loaded in (etl_state.timezone) into
 * api.timezone, under the operation's lock, in one transaction; recorded
 * as a run (command change_timezone, records = the surveys re-read).
 */
static int
change_timezone(Loader *l, const EtlConfig *cfg)
{
	char		stored[128] = "";
	bool		mismatch = false;
	int			rc;
	uint64_t	surveys = 0;
	LoadCounts	c = {0};

	if ((rc = lock_operation(l, cfg, "change_timezone", 0, 0, -1)) != EXIT_OK)
		return rc;
	if (!loader_timezone_check(l, stored, sizeof(stored), &mismatch))
		return EXIT_FAILED;
	if (!mismatch)
	{
		log_info("load", "operation \"%s\": %s; nothing to change", cfg->operation,
				 stored[0] == '\0' ? "no data loaded yet" : "its data is read in api.timezone");
		return EXIT_OK;
	}
	if (!loader_run_begin(l, "change_timezone", 0, 0))
		return EXIT_FAILED;
	if (!loader_change_timezone(l, stored, &surveys))
	{
		(void) loader_run_end(l, "failed", NULL, "the time zone change failed (logged)");
		return EXIT_FAILED;
	}
	c.records = surveys;
	(void) loader_run_end(l, "ok", &c, NULL);
	log_info("load", "operation \"%s\": %llu surveys, the loaded windows, rejects, agents, "
			 "skills and the watermark re-read from %s into %s", cfg->operation,
			 (unsigned long long) surveys, stored, cfg->timezone);
	return EXIT_OK;
}

/*
 * change_privacy: `migrate --change-privacy`: record the configured
 * privacy.* settings as the operation's (etl_state.privacy_*), under its
 * lock; the rows stored keep their form. Recorded as a run (command
 * change_privacy, the note saying what changed).
 */
static int
change_privacy(Loader *l, const EtlConfig *cfg)
{
	char		note[512] = "";
	bool		changed = false;
	int			rc;

	if ((rc = lock_operation(l, cfg, "change_privacy", 0, 0, -1)) != EXIT_OK)
		return rc;
	if (!loader_run_begin(l, "change_privacy", 0, 0))
		return EXIT_FAILED;
	if (!loader_change_privacy(l, note, sizeof(note), &changed))
	{
		(void) loader_run_end(l, "failed", NULL, "the privacy change failed (logged)");
		return EXIT_FAILED;
	}
	if (!changed)
		snprintf(note, sizeof(note), "nothing to change: %s",
				 "no settings recorded differ from the configuration");
	if (!loader_run_note(l, note) || !loader_run_end(l, "ok", NULL, NULL))
		return EXIT_FAILED;
	log_info("load", "operation \"%s\": %s%s", cfg->operation, note,
			 changed ? "; loads use these settings from now on, the rows stored keep their form"
			 : "");
	return EXIT_OK;
}

int
cmd_migrate(const CliOptions *cli, EtlConfig *cfg)
{
	Loader	   *l;
	int			applied = 0;
	int			rc;
	bool		ok;

	if (cli->change_timezone || cli->change_privacy)
	{
		/* the operation's own api.timezone, privacy.* (and lock) */
		rc = cli_one_operation(cli, cfg, cli->change_timezone ? "migrate --change-timezone"
							   : "migrate --change-privacy", &cfg);
		if (rc != EXIT_OK)
			return rc;
		if ((l = open_warehouse_rc(cfg, true, &rc)) == NULL)
			return rc;
		rc = EXIT_OK;
		if (cli->change_timezone)
			rc = change_timezone(l, cfg);
		if (rc == EXIT_OK && cli->change_privacy)
			rc = change_privacy(l, cfg);
		loader_free(l);
		return rc;
	}
	if (cli->noperations > 0)
	{
		fprintf(stderr, "wvetl: migrate: --operation goes with --change-timezone or "
				"--change-privacy (the schema is every operation's)\n");
		return EXIT_USAGE;
	}
	if ((l = open_warehouse_rc(cfg, false, &rc)) == NULL)
		return rc;
	ok = loader_migrate(l, &applied);
	if (ok)
		log_info("load", "schema %s is current (%d migrations applied now)", cfg->schema, applied);
	loader_free(l);
	return ok ? EXIT_OK : EXIT_FAILED;
}

/*
 * status_operations: every operation of ops side by side, then each one's
 * details, each in its own time zone. Reads only (open_warehouse_existing).
 * Returns the exit status.
 */
static int
status_operations(EtlConfig *cfg, EtlConfig **ops, int n)
{
	const char **names = calloc((size_t) n, sizeof(char *));
	const char **zones = calloc((size_t) n, sizeof(char *));
	Loader	   *l = NULL;
	int			rc = EXIT_FAILED;

	if (names == NULL || zones == NULL)
		log_error("load", "out of memory");
	else if ((l = open_warehouse_existing(cfg, &rc)) != NULL)
	{
		for (int i = 0; i < n; i++)
		{
			names[i] = ops[i]->operation;
			zones[i] = ops[i]->timezone;
		}
		rc = loader_status_operations(l, names, zones, n, stdout) ? EXIT_OK : EXIT_FAILED;
	}
	loader_free(l);
	free(names);
	free(zones);
	return rc;
}

/* status_all: `status --all`, every operation the warehouse holds. */
static int
status_all(const CliOptions *cli, EtlConfig *cfg)
{
	Loader	   *l;
	int			rc;

	if (cli->noperations > 0)
	{
		fprintf(stderr, "wvetl: status: --all shows every operation; give it no --operation\n");
		return EXIT_USAGE;
	}
	if ((l = open_warehouse_existing(cfg, &rc)) == NULL)
		return rc;
	rc = loader_status_all(l, stdout) ? EXIT_OK : EXIT_FAILED;
	loader_free(l);
	return rc;
}

/*
 * cmd_status: the operation's status; with [operation NAME] sections,
 * every configured operation (or those --operation names) side by side,
 * then each one's details; with --all, every operation in the warehouse.
 * Reads only (open_warehouse_existing).
 */
int
cmd_status(const CliOptions *cli, EtlConfig *cfg)
{
	EtlConfig **ops = NULL;
	Loader	   *l;
	int			n = 0;
	int			rc;

	if (cli->all)
		return status_all(cli, cfg);
	if ((rc = cli_operations(cli, cfg, &ops, &n)) != EXIT_OK)
		return rc;
	if (cfg->nops > 0)
		rc = status_operations(cfg, ops, n);
	else if ((l = open_warehouse_existing(cfg, &rc)) != NULL)
	{
		rc = loader_status(l, stdout) ? EXIT_OK : EXIT_FAILED;
		loader_free(l);
	}
	/* the reader roles, whoever the operations */
	if (rc == EXIT_OK && (l = open_warehouse_existing(cfg, &rc)) != NULL)
	{
		rc = loader_grants_print(l, stdout) ? EXIT_OK : EXIT_FAILED;
		loader_free(l);
	}
	free(ops);
	return rc;
}

/* shell_word: s as one word of a shell command line, quoted when it must
 * be ('...', a ' inside as '\''), into out. */
static void
shell_word(const char *s, char *out, size_t size)
{
	size_t		n = 0;

	if (s[0] != '\0' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
								"0123456789._-") == strlen(s))
	{
		snprintf(out, size, "%s", s);
		return;
	}
	if (size < 3)
	{
		out[0] = '\0';
		return;
	}
	out[n++] = '\'';
	for (; *s != '\0' && n + 6 < size; s++)
	{
		if (*s == '\'')
		{
			memcpy(out + n, "'\\''", 4);
			n += 4;
		}
		else
			out[n++] = *s;
	}
	out[n++] = '\'';
	out[n] = '\0';
}

/*
 * cmd_rejects: the operation's open rejects, as text (with the commands
 * that retry them) or JSON lines. Reads only (open_warehouse_existing).
 */
int
cmd_rejects(const CliOptions *cli, EtlConfig *cfg)
{
	EtlConfig  *op;
	Loader	   *l;
	int64_t		from;
	int64_t		to;
	char		name[300];
	char		args[320] = "";
	bool		ok;
	int			rc = cli_one_operation(cli, cfg, "rejects", &op);

	if (rc != EXIT_OK)
		return rc;
	/* after cli_one_operation: --from and --to are read in op's zone */
	if (!parse_span(cli, &from, &to))
		return EXIT_USAGE;
	if (cfg->nops > 0)
	{
		shell_word(op->operation, name, sizeof(name));
		snprintf(args, sizeof(args), "--operation %s ", name);
	}
	if ((l = open_warehouse_existing(op, &rc)) == NULL)
		return rc;
	ok = loader_rejects(l, from, to, cli->json, args, stdout);
	loader_free(l);
	return ok ? EXIT_OK : EXIT_FAILED;
}

/* scale_arg_ok: a --min/--max value is a finite decimal number (digits,
 * a sign, a point, an exponent: not NaN, Infinity or hex, which strtod
 * and numeric would take), or "" (clear). */
static bool
scale_arg_ok(const char *opt, const char *s)
{
	char	   *end = NULL;
	double		v;

	if (s == NULL || *s == '\0')
		return true;
	v = strtod(s, &end);
	if (end != s && *end == '\0' && isfinite(v) && strspn(s, "0123456789+-.eE") == strlen(s))
		return true;
	fprintf(stderr, "wvetl: questions: %s \"%s\" is not a finite number\n", opt, s);
	return false;
}

/* kind_arg_ok: a --kind value survey_question.kind takes, or "" (clear). */
static bool
kind_arg_ok(const char *s)
{
	static const char *const kinds[] = {"", "csat", "nps", "ces", "yes_no", "text"};
	size_t		i;

	if (s == NULL)
		return true;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(s, kinds[i]) == 0)
			return true;
	fprintf(stderr, "wvetl: questions: --kind \"%s\": expected csat, nps, ces, yes_no or text\n",
			s);
	return false;
}

/*
 * cmd_questions: without arguments, list the question numbers answered;
 * with "set N", store question N's label, scale and kind (survey_question).
 */
int
cmd_questions(const CliOptions *cli, EtlConfig *cfg)
{
	Loader	   *l;
	int			rc;
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
		if (!scale_arg_ok("--min", cli->scale_min) || !scale_arg_ok("--max", cli->scale_max) ||
			!kind_arg_ok(cli->kind))
			return EXIT_USAGE;
	}
	else if (cli->label != NULL || cli->scale_min != NULL || cli->scale_max != NULL ||
			 cli->kind != NULL)
	{
		fprintf(stderr, "wvetl: questions: --label, --min, --max and --kind go with \"set N\"\n");
		return EXIT_USAGE;
	}
	if ((rc = cli_one_operation(cli, cfg, "questions", &cfg)) != EXIT_OK)
		return rc;
	/* never creates nor upgrades the schema, even to set a label */
	if ((l = open_warehouse_existing(cfg, &rc)) == NULL)
		return rc;
	if (cli->file != NULL)
		ok = loader_questions_set(l, (int) n, cli->label, cli->scale_min, cli->scale_max,
								  cli->kind, stdout);
	else
		ok = loader_questions_list(l, stdout);
	loader_free(l);
	return ok ? EXIT_OK : EXIT_FAILED;
}

int
cmd_config(const CliOptions *cli, EtlConfig *cfg)
{
	config_print(cfg, stdout);
	return EXIT_OK;
}

/*
 * cmd_grant: ROLE reads the operations --operation names (default: every
 * operation of the configuration) through the BI views; see load/access.c.
 */
int
cmd_grant(const CliOptions *cli, EtlConfig *cfg)
{
	const char *names[MAX_OPERATIONS];
	EtlConfig **ops = NULL;
	Loader	   *l;
	int			n = 0;
	int			rc;

	if (cli->file == NULL || cli->file[0] == '\0')
	{
		fprintf(stderr, "wvetl: grant: which role? (wvetl grant ROLE [--operation NAME]...)\n");
		return EXIT_USAGE;
	}
	if (cli->noperations > 0)
	{
		/* an operation loaded by another configuration may be named too */
		for (n = 0; n < cli->noperations; n++)
			names[n] = cli->operations[n];
	}
	else
	{
		if ((rc = cli_operations(cli, cfg, &ops, &n)) != EXIT_OK)
			return rc;
		for (int i = 0; i < n && i < MAX_OPERATIONS; i++)
			names[i] = ops[i]->operation;
		n = n < MAX_OPERATIONS ? n : MAX_OPERATIONS;
		free(ops);
	}
	if ((l = open_warehouse_rc(cfg, true, &rc)) == NULL)
		return rc;
	rc = loader_grant(l, cli->file, names, n, stdout) ? EXIT_OK : EXIT_FAILED;
	loader_free(l);
	return rc;
}

/* cmd_revoke: ROLE reads nothing of the warehouse any more. */
int
cmd_revoke(const CliOptions *cli, EtlConfig *cfg)
{
	Loader	   *l;
	int			rc;

	if (cli->file == NULL || cli->file[0] == '\0')
	{
		fprintf(stderr, "wvetl: revoke: which role? (wvetl revoke ROLE)\n");
		return EXIT_USAGE;
	}
	if ((l = open_warehouse_rc(cfg, true, &rc)) == NULL)
		return rc;
	rc = loader_revoke(l, cli->file, stdout) ? EXIT_OK : EXIT_FAILED;
	loader_free(l);
	return rc;
}
