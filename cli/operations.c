/*
 * cli/operations.c
 *   Which operations a command works on. --operation NAME (repeatable)
 *   picks among the configured ones: the [operation NAME] sections, or the
 *   one operation of a file without them (named by sync.operation). A
 *   command that works on one operation makes its time zone the process's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/wvtime.h"

/* The operation entered, for main's own summary line. */
static const EtlConfig *entered = NULL;

/* list_operations: "a, b, c": the configured operations' names, into out. */
static void
list_operations(EtlConfig *cfg, char *out, size_t size)
{
	size_t		pos = 0;

	out[0] = '\0';
	for (int i = 0; i < config_operation_count(cfg) && pos < size; i++)
		pos += (size_t) snprintf(out + pos, size - pos, "%s%s", i > 0 ? ", " : "",
								 config_operation(cfg, i)->operation);
}

/*
 * cli_operations: the operations named by --operation, in the order given
 * (a name given twice counts once), or every configured one. *ops is
 * malloc'd (the caller frees it; its elements are cfg's). Returns EXIT_OK,
 * or EXIT_USAGE for a name no operation has (logged).
 */
int
cli_operations(const CliOptions *cli, EtlConfig *cfg, EtlConfig ***ops, int *n)
{
	int			want = cli->noperations > 0 ? cli->noperations : config_operation_count(cfg);
	EtlConfig **list = calloc((size_t) want, sizeof(EtlConfig *));

	*ops = NULL;
	*n = 0;
	if (list == NULL)
	{
		log_error("config", "out of memory");
		return EXIT_FAILED;
	}
	if (cli->noperations == 0)
	{
		for (int i = 0; i < want; i++)
			list[i] = config_operation(cfg, i);
		*n = want;
		*ops = list;
		return EXIT_OK;
	}
	for (int i = 0; i < cli->noperations; i++)
	{
		EtlConfig  *op = config_find_operation(cfg, cli->operations[i]);
		bool		again = false;

		if (op == NULL)
		{
			char		names[1024];

			list_operations(cfg, names, sizeof(names));
			log_error("config", "--operation %s: no such operation in %s (configured: %s)",
					  cli->operations[i], cfg->path ? cfg->path : "the configuration", names);
			free(list);
			return EXIT_USAGE;
		}
		for (int j = 0; j < *n; j++)
			again = again || list[j] == op;
		if (!again)
			list[(*n)++] = op;
	}
	*ops = list;
	return EXIT_OK;
}

/*
 * cli_enter_operation: make op the operation this process works on: its
 * time zone becomes the process's (--from/--to, the API's dates, the
 * logs), and in a file with [operation NAME] sections every log line
 * names it. False when the zone cannot be set (logged; load_config has
 * checked every zone, so this does not happen).
 */
bool
cli_enter_operation(const EtlConfig *cfg, const EtlConfig *op)
{
	char		why[ETL_ERRLEN];

	if (!wvtime_set_zone(op->timezone, why))
	{
		log_error("config", "[operation %s] api.timezone: %s", op->operation, why);
		return false;
	}
	if (cfg->nops > 0)
		log_set_operation(op->operation);
	entered = op;
	return true;
}

/* cli_summary_config: see cli.h. */
const EtlConfig *
cli_summary_config(const EtlConfig *top)
{
	return entered != NULL ? entered : top;
}

/*
 * cli_one_operation: the one operation command works on: the one named by
 * --operation, or the only one configured; entered (cli_enter_operation).
 * Returns EXIT_OK with *op set, or EXIT_USAGE (logged): no such operation,
 * several named, or several configured and none named.
 */
int
cli_one_operation(const CliOptions *cli, EtlConfig *cfg, const char *command, EtlConfig **op)
{
	EtlConfig **ops = NULL;
	int			n = 0;
	int			rc = cli_operations(cli, cfg, &ops, &n);

	*op = NULL;
	if (rc != EXIT_OK)
		return rc;
	if (n == 1)
		*op = ops[0];
	free(ops);
	if (*op == NULL)
	{
		char		names[1024];

		list_operations(cfg, names, sizeof(names));
		log_error("config", "%s works on one operation: name it with --operation NAME (%s: %s)",
				  command, cli->noperations > 0 ? "named several" : "configured", names);
		return EXIT_USAGE;
	}
	return cli_enter_operation(cfg, *op) ? EXIT_OK : EXIT_USAGE;
}
