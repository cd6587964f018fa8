/*
 * cli/admin_cmds.c
 *   The warehouse's upkeep and what it shows: migrate, status, questions,
 *   and config (which needs no warehouse).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"

int
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

/*
 * cmd_status: the operation's status; with [operation NAME] sections,
 * every configured operation (or those --operation names) side by side,
 * then each one's details. Reads only (open_warehouse_existing).
 */
int
cmd_status(const CliOptions *cli, EtlConfig *cfg)
{
	EtlConfig **ops = NULL;
	Loader	   *l;
	int			n = 0;
	int			rc = cli_operations(cli, cfg, &ops, &n);

	if (rc != EXIT_OK)
		return rc;
	if (cfg->nops > 0)
		rc = status_operations(cfg, ops, n);
	else if ((l = open_warehouse_existing(cfg, &rc)) != NULL)
	{
		rc = loader_status(l, stdout) ? EXIT_OK : EXIT_FAILED;
		loader_free(l);
	}
	free(ops);
	return rc;
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

/*
 * cmd_questions: without arguments, list the question numbers answered;
 * with "set N", store question N's label and scale (survey_question).
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
		if (!scale_arg_ok("--min", cli->scale_min) || !scale_arg_ok("--max", cli->scale_max))
			return EXIT_USAGE;
	}
	else if (cli->label != NULL || cli->scale_min != NULL || cli->scale_max != NULL)
	{
		fprintf(stderr, "wvetl: questions: --label, --min and --max go with \"set N\"\n");
		return EXIT_USAGE;
	}
	if ((rc = cli_one_operation(cli, cfg, "questions", &cfg)) != EXIT_OK)
		return rc;
	/* never creates nor upgrades the schema, even to set a label */
	if ((l = open_warehouse_existing(cfg, &rc)) == NULL)
		return rc;
	if (cli->file != NULL)
		ok = loader_questions_set(l, (int) n, cli->label, cli->scale_min, cli->scale_max, stdout);
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
