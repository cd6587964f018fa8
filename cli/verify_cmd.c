/*
 * cli/verify_cmd.c
 *   `wvetl verify [--from T] [--to T] [--repair]`: the operation's rollups
 *   checked against the surveys (load/verify.c). Exit 1 when a cell
 *   differs (after --repair: when one still does).
 */
#include <stdio.h>

#include "cli/cli.h"
#include "common/log.h"

int
cmd_verify(const CliOptions *cli, EtlConfig *cfg)
{
	EtlConfig  *op;
	Loader	   *l;
	int64_t		from;
	int64_t		to;
	uint64_t	differences = 0;
	int			rc = cli_one_operation(cli, cfg, "verify", &op);

	if (rc != EXIT_OK)
		return rc;
	/* after cli_one_operation: --from and --to are read in op's zone */
	if (!parse_span(cli, &from, &to))
		return EXIT_USAGE;
	if ((l = open_warehouse_existing(op, &rc)) == NULL)
		return rc;
	/* --repair holds the operation's lock, so that no load changes the
	 * rollups meanwhile */
	if (cli->repair && (rc = lock_operation(l, op, NULL, 0, 0, -1)) != EXIT_OK)
	{
		loader_free(l);
		return rc;
	}
	if (!loader_verify(l, from, to, cli->repair, stdout, &differences))
		rc = EXIT_FAILED;
	else
		rc = differences > 0 ? EXIT_FAILED : EXIT_OK;
	loader_free(l);
	return rc;
}
