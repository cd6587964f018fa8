/*
 * cli/prune.c
 *   `wvetl prune [--operation NAME]... [--before T]`: retention. For each
 *   operation (those named, or every configured one), in turn: its limit
 *   (--before T, else retention.days before today, as a local midnight),
 *   its lock, a run (command prune), the horizon recorded, then its
 *   surveys, answers and rejects before the limit deleted in batches
 *   (load/prune.c) and its archive files (extract/archive.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/wvtime.h"

/* Surveys (with their answers), or rejects, deleted per transaction. */
#define PRUNE_BATCH 10000

/*
 * prune_limit: the operation's limit, in its zone (entered): the local
 * midnight of --before T's day (a whole day is pruned or none of it, so
 * the daily rollups and the surveys left never disagree on a day), else
 * of the day retention.days before today. EXIT_USAGE (said) when neither
 * is given or the limit is after now.
 */
static int
prune_limit(const CliOptions *cli, const EtlConfig *op, int64_t *limit)
{
	int64_t		t;
	char		a[32];

	if (cli->before != NULL)
	{
		if (!parse_time_arg("--before", cli->before, &t))
			return EXIT_USAGE;
		*limit = wvtime_day_start(t, 0);
	}
	else
		*limit = wvtime_day_start(wvtime_now(), -(int) op->retention_days);
	if (*limit > wvtime_now())
	{
		wvtime_format_local(*limit, a);
		log_error("config", "prune: --before %s: %s %s is after now; prune deletes the past only",
				  cli->before, a, wvtime_zone());
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/*
 * prune_run: with the lock held, in a run: record the horizon, delete the
 * rows, then the archive files, note the counts. Returns the exit status;
 * the run is ended in every case.
 */
static int
prune_run(Loader *l, const EtlConfig *op, int64_t limit)
{
	PruneCounts c = {0};
	int64_t		horizon = limit;
	char		errbuf[ETL_ERRLEN] = "";
	char		a[32];

	if (!loader_run_begin(l, "prune", 0, limit))
		return EXIT_FAILED;
	log_set_run_id(loader_run_id(l));
	if (!loader_prune_horizon(l, limit, &horizon) ||
		!loader_prune_rows(l, horizon, PRUNE_BATCH, &c))
		goto fail;
	if (op->archive_dir != NULL &&
		!archive_prune(op->archive_dir, op->operation, op->report, horizon, &c.archives, errbuf))
	{
		log_error("extract", "archive.dir: %s", errbuf);
		goto fail;
	}
	if (!loader_prune_note(l, &c) || !loader_run_end(l, "ok", NULL, NULL))
		return EXIT_FAILED;
	wvtime_format_local(horizon, a);
	printf("%s: pruned before %s %s: %" PRIu64 " surveys, %" PRIu64 " answers, %" PRIu64
		   " rejects, %" PRIu64 " archive files deleted\n", op->operation, a, wvtime_zone(),
		   c.surveys, c.answers, c.rejects, c.archives);
	return EXIT_OK;

fail:
	(void) loader_prune_note(l, &c);
	(void) loader_run_end(l, pipeline_stop_requested ? "interrupted" : "failed", NULL,
						  errbuf[0] ? errbuf : "the prune failed (logged); what committed stays, "
						  "a re-run continues");
	return pipeline_stop_requested ? EXIT_INTERRUPTED : EXIT_FAILED;
}

/* prune_operation: prune one operation (its zone entered). */
static int
prune_operation(const CliOptions *cli, const EtlConfig *cfg, EtlConfig *op)
{
	Loader	   *l;
	int64_t		limit = 0;
	int			rc;

	if (!cli_enter_operation(cfg, op))
		return EXIT_USAGE;
	if ((rc = prune_limit(cli, op, &limit)) != EXIT_OK)
		return rc;
	if ((l = open_warehouse_rc(op, true, &rc)) == NULL)
		return rc;
	if ((rc = lock_operation(l, op, "prune", 0, limit, -1)) == EXIT_OK)
		rc = prune_run(l, op, limit);
	loader_free(l);
	return rc;
}

/*
 * cmd_prune: every operation named (or configured), in turn; none is
 * touched when one of them has no limit (neither --before nor
 * retention.days: a usage error naming them). The exit status is the
 * worst of theirs; an interrupt stops at the operation in flight.
 */
int
cmd_prune(const CliOptions *cli, EtlConfig *cfg)
{
	EtlConfig **ops = NULL;
	char		missing[1024] = "";
	size_t		pos = 0;
	int			n = 0;
	int			rc = cli_operations(cli, cfg, &ops, &n);

	if (rc != EXIT_OK)
		return rc;
	for (int i = 0; cli->before == NULL && i < n; i++)
		if (ops[i]->retention_days == 0 && pos < sizeof(missing))
			pos += (size_t) snprintf(missing + pos, sizeof(missing) - pos, "%s%s",
									 pos > 0 ? ", " : "", ops[i]->operation);
	if (pos > 0)
	{
		log_error("config", "prune: how old is too old? give --before T, or set retention.days "
				  "(in [retention], or in the operation's section) for: %s", missing);
		free(ops);
		return EXIT_USAGE;
	}
	for (int i = 0; i < n; i++)
		rc = worst_exit(rc, pipeline_stop_requested ? EXIT_INTERRUPTED
						: prune_operation(cli, cfg, ops[i]));
	free(ops);
	return rc;
}
