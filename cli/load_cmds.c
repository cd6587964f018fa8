/*
 * cli/load_cmds.c
 *   The commands that fetch or load: sync, backfill and replay (one run of
 *   the pipeline under the operation's lock) and extract (no database).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/wvtime.h"

/*
 * timezone_check: the operation's data was read in api.timezone, or it has
 * none yet (contract rule 12). A load in another zone would shift every
 * local date and give a reloaded day's surveys new identities (duplicates):
 * it is refused as a configuration error (exit 2), recorded and summarised
 * as such, naming the stored zone and the way to change it on purpose.
 * Returns EXIT_OK when the load may go on, else the exit status.
 */
static int
timezone_check(Loader *l, const EtlConfig *cfg, const char *command, int64_t from,
			   int64_t to, double t0)
{
	char		stored[128];
	char		msg[1024];
	bool		mismatch = false;

	if (!loader_timezone_check(l, stored, sizeof(stored), &mismatch))
		return EXIT_FAILED;
	if (!mismatch)
		return EXIT_OK;
	snprintf(msg, sizeof(msg), "operation \"%s\" has data read in %s (etl_state.timezone), "
			 "but api.timezone is %s: its local dates would shift and a reloaded day would "
			 "be loaded twice; set api.timezone back to %s, or, if the API's dates really "
			 "are in %s, run `wvetl migrate --change-timezone` to re-read the stored data "
			 "there (README: \"Changing an operation's time zone\")",
			 cfg->operation, stored, cfg->timezone, stored, cfg->timezone);
	return refuse_run(l, cfg, command, from, to, "config_error", msg, t0);
}

/*
 * privacy_check: the operation's data was loaded with the configured
 * privacy.* settings, or it has none yet (or none recorded). A load with
 * other settings would store the same person's value in two forms (clear
 * beside hashed, hashed beside dropped): it is refused as a configuration
 * error (exit 2), recorded and summarised as such, naming the stored and
 * the configured settings and the way to change them on purpose.
 * Returns EXIT_OK when the load may go on, else the exit status.
 */
static int
privacy_check(Loader *l, const EtlConfig *cfg, const char *command, int64_t from,
			  int64_t to, double t0)
{
	char		stored[256];
	char		configured[256];
	char		msg[1536];
	bool		mismatch = false;

	if (!loader_privacy_check(l, stored, configured, sizeof(stored), &mismatch))
		return EXIT_FAILED;
	if (!mismatch)
		return EXIT_OK;
	snprintf(msg, sizeof(msg), "operation \"%s\" has data loaded with privacy %s "
			 "(etl_state.privacy_*), but the configuration says %s: its rows would hold "
			 "the same person's value in two forms; set privacy.* back, or run `wvetl "
			 "migrate --change-privacy` to load with the new settings from now on (rows "
			 "stored keep their form; README: \"Changing an operation's privacy settings\")",
			 cfg->operation, stored, configured);
	return refuse_run(l, cfg, command, from, to, "config_error", msg, t0);
}

/*
 * pruned_check: a backfill or replay starts at or after the operation's
 * prune horizon (etl_state.pruned_before). Before it, the surveys were
 * deleted by `wvetl prune` but the rollups still count them: loading
 * them again would count them twice. Refused as a configuration error
 * (exit 2), recorded and summarised. Returns EXIT_OK when the load may go
 * on, else the exit status.
 */
static int
pruned_check(Loader *l, const EtlConfig *cfg, const char *command, int64_t from,
			 int64_t to, double t0)
{
	int64_t		pruned = 0;
	bool		found = false;
	char		at[32];
	char		msg[768];

	if (!loader_pruned_before(l, &pruned, &found))
		return EXIT_FAILED;
	if (!found || from >= pruned)
		return EXIT_OK;
	wvtime_format_local(pruned, at);
	snprintf(msg, sizeof(msg), "operation \"%s\" is pruned before %s (wvetl prune): the "
			 "surveys before it are deleted but the rollups still count them, so loading "
			 "them again would count them twice; use --from %s or later", cfg->operation,
			 at, at);
	return refuse_run(l, cfg, command, from, to, "config_error", msg, t0);
}

/*
 * sync_range: sync's [*from, *to): from the watermark less sync.lookback
 * (the first time: sync.start) to now less sync.lag. Returns EXIT_OK with
 * the range set (never before the operation's prune horizon: see
 * pruned_check); otherwise the run has been recorded and summarised (no
 * sync.start, or a start no Wolkvox operation can have: a config error;
 * nothing to sync yet: ok) and the exit status to end with is returned,
 * with *done set when that ends the command.
 */
static int
sync_range(Loader *l, const EtlConfig *cfg, const char *command, double t0,
		   int64_t *from, int64_t *to, bool *done)
{
	int64_t		wm = 0;
	int64_t		pruned = 0;
	bool		found = false;
	bool		was_pruned = false;
	WallTime	w;
	char		msg[512];

	*done = true;
	if (!loader_get_watermark(l, &wm, &found))
		return EXIT_FAILED;
	if (found)
	{
		*from = wm - (int64_t) cfg->lookback_s;
		if (!wvtime_in_service(*from))
		{
			char		at[32];

			wvtime_format_local(wm, at);
			snprintf(msg, sizeof(msg), "sync.lookback reaches back from the watermark (%s) "
					 "to before " WVTIME_SERVICE_FROM ", a date no Wolkvox operation can "
					 "have: set a shorter sync.lookback", at);
			return refuse_run(l, cfg, command, 0, 0, "config_error", msg, t0);
		}
	}
	else if (cfg->start == NULL || !wvtime_parse_wall(cfg->start, strlen(cfg->start), &w))
	{
		snprintf(msg, sizeof(msg), "sync.start is %s and no watermark exists yet: set "
				 "sync.start to where the first sync begins (YYYY-MM-DD)",
				 cfg->start ? "not a valid time" : "not set");
		return refuse_run(l, cfg, command, 0, 0, "config_error", msg, t0);
	}
	else if (!wvtime_in_service(*from = wvtime_local_to_epoch(&w)))
	{
		snprintf(msg, sizeof(msg), "sync.start %s is a date no Wolkvox operation can have "
				 "(before " WVTIME_SERVICE_FROM " or from " WVTIME_SERVICE_UNTIL " on)",
				 cfg->start);
		return refuse_run(l, cfg, command, 0, 0, "config_error", msg, t0);
	}
	if (!loader_pruned_before(l, &pruned, &was_pruned))
		return EXIT_FAILED;
	if (was_pruned && *from < pruned)
	{
		char		at[32];

		/* the pruned days' surveys are gone; their rollups stay */
		wvtime_format_local(pruned, at);
		log_info("pipeline", "sync starts at %s: the operation is pruned before it", at);
		*from = pruned;
	}
	*to = wvtime_now() - (int64_t) cfg->lag_s;
	if (*from >= *to)
	{
		/* a run all the same: etl_run records every run */
		log_info("pipeline", "nothing to sync yet: the watermark is within sync.lag of now");
		if (!loader_run_begin(l, command, 0, 0) || !loader_run_end(l, "ok", NULL, NULL))
			return EXIT_FAILED;
		print_summary_line(cfg, command, NULL, status_name(PIPE_OK), loader_run_id(l),
						   now_seconds() - t0);
		return EXIT_OK;
	}
	*done = false;
	return EXIT_OK;
}

/*
 * run_load: the common body of sync, backfill and replay: connect, migrate,
 * lock the operation, record the run, run the pipeline, record the end.
 * cfg is the operation's configuration, its zone entered; progress: a
 * progress line may be drawn (on a terminal).
 */
static int
run_load(const char *command, EtlConfig *cfg, int64_t from, int64_t to,
		 const char *replay_path, bool reload, bool sync, bool progress)
{
	Pipeline	p = {0};
	Loader	   *l = NULL;
	ApiClient  *api = NULL;
	PipeStatus	st = PIPE_FAILED;
	double		t0 = now_seconds();
	int			rc = EXIT_FAILED;

	if (replay_path == NULL && !need_api(cfg))
		return EXIT_USAGE;
	l = open_warehouse_rc(cfg, true, &rc);
	if (l == NULL)
		goto cleanup;
	if ((rc = lock_operation(l, cfg, command, from, to, t0)) != EXIT_OK ||
		(rc = timezone_check(l, cfg, command, from, to, t0)) != EXIT_OK ||
		(rc = privacy_check(l, cfg, command, from, to, t0)) != EXIT_OK ||
		(!sync && (rc = pruned_check(l, cfg, command, from, to, t0)) != EXIT_OK))
		goto cleanup;
	if (sync)
	{
		bool		done;

		rc = sync_range(l, cfg, command, t0, &from, &to, &done);
		if (done)
			goto cleanup;
	}
	rc = EXIT_FAILED;
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
	p.progress = progress && isatty(STDERR_FILENO) && strcmp(cfg->log_format, "json") != 0;
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

/* cli_sync: see cli.h. */
int
cli_sync(EtlConfig *op, bool progress)
{
	return run_load("sync", op, 0, 0, NULL, false, true, progress);
}

/*
 * cmd_sync: sync every operation (or those --operation names): one in this
 * process, several in processes of their own (cli_sync_operations).
 */
int
cmd_sync(const CliOptions *cli, EtlConfig *cfg)
{
	EtlConfig **ops = NULL;
	int			n = 0;
	int			rc = cli_operations(cli, cfg, &ops, &n);

	if (rc == EXIT_OK && n == 1)
		rc = cli_enter_operation(cfg, ops[0]) ? cli_sync(ops[0], true) : EXIT_USAGE;
	else if (rc == EXIT_OK)
		rc = cli_sync_operations(cfg, ops, n);
	free(ops);
	return rc;
}

/*
 * finished_range: only finished time is loaded (contract rule 12): a window
 * ending after now - sync.lag would be recorded as complete while its data
 * may still grow. backfill (clamp) loads up to now - sync.lag and leaves
 * the rest unloaded, for a later backfill or sync, saying so; replay
 * refuses such a range (a body saved before now cannot hold it all). A
 * range that starts after now - sync.lag is refused either way. False
 * (logged) means exit 2.
 */
static bool
finished_range(const EtlConfig *cfg, const char *command, int64_t from, int64_t *to,
			   bool clamp)
{
	int64_t		limit = wvtime_now() - (int64_t) cfg->lag_s;
	char		t[32];
	char		l[32];

	if (*to <= limit)
		return true;
	wvtime_format_local(*to, t);
	wvtime_format_local(limit, l);
	if (!clamp || from >= limit)
	{
		log_error("config", "%s --to %s is after now - sync.lag (%s %s): that time is not "
				  "finished, so it cannot be loaded as complete; %s", command, t, l,
				  wvtime_zone(), clamp ? "nothing in the range is finished yet"
				  : "give a --to at or before it");
		return false;
	}
	log_warn("pipeline", "%s --to %s is after now - sync.lag (%s %s): loading up to there; "
			 "the rest is not finished and stays unloaded, for a later backfill or sync",
			 command, t, l, wvtime_zone());
	*to = limit;
	return true;
}

int
cmd_backfill(const CliOptions *cli, EtlConfig *cfg)
{
	EtlConfig  *op;
	int64_t		from;
	int64_t		to;
	int			rc = cli_one_operation(cli, cfg, "backfill", &op);

	if (rc != EXIT_OK)
		return rc;
	if (!parse_range(cli, &from, &to) || !finished_range(op, "backfill", from, &to, true))
		return EXIT_USAGE;
	return run_load("backfill", op, from, to, NULL, cli->reload, false, true);
}

int
cmd_replay(const CliOptions *cli, EtlConfig *cfg)
{
	EtlConfig  *op;
	int64_t		from;
	int64_t		to;
	int			rc;

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
	if ((rc = cli_one_operation(cli, cfg, "replay", &op)) != EXIT_OK)
		return rc;
	if (!parse_range(cli, &from, &to) || !finished_range(op, "replay", from, &to, false))
		return EXIT_USAGE;
	return run_load("replay", op, from, to, cli->file, cli->reload, false, true);
}

/*
 * OutFile: extract's -o FILE, written beside FILE under a temporary name
 * (FILE.tmp.XXXXXX, created with O_EXCL) and renamed over it only once
 * the whole range is written: a run that fails or is interrupted leaves
 * FILE as it was, and no reader ever sees half of it. A FILE that exists
 * and is not a regular file (/dev/stdout, a FIFO) is written directly:
 * renaming would replace it. A symbolic link is followed, as fopen would.
 */
typedef struct OutFile
{
	FILE	   *f;
	char	   *target;			/* where the lines end up; owned */
	char	   *tmp;			/* NULL when writing target directly; owned */
} OutFile;

/* out_open: see OutFile. False (logged) when FILE cannot be written. */
static bool
out_open(OutFile *o, const char *path)
{
	struct stat st;
	mode_t		mask;
	int			fd;

	memset(o, 0, sizeof(*o));
	o->target = stat(path, &st) == 0 ? realpath(path, NULL) : strdup(path);
	if (o->target == NULL)
	{
		log_error("extract", "cannot write %s: %s", path, strerror(errno));
		return false;
	}
	if (stat(o->target, &st) == 0 && !S_ISREG(st.st_mode))
	{
		if ((o->f = fopen(o->target, "w")) != NULL)
			return true;
		log_error("extract", "cannot write %s: %s", path, strerror(errno));
		goto fail;
	}
	if (asprintf(&o->tmp, "%s.tmp.XXXXXX", o->target) < 0)
	{
		o->tmp = NULL;
		log_error("extract", "out of memory");
		goto fail;
	}
	/* mkostemp: O_CREAT | O_EXCL, mode 0600, then the mode FILE has (or
	 * a new file would get from fopen: 0666 less the umask) */
	if ((fd = mkostemp(o->tmp, O_CLOEXEC)) < 0)
	{
		log_error("extract", "cannot create a temporary file beside %s: %s", path,
				  strerror(errno));
		goto fail;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, stat(o->target, &st) == 0 ? st.st_mode & 07777 : 0666 & ~mask) != 0 ||
		(o->f = fdopen(fd, "w")) == NULL)
	{
		log_error("extract", "cannot write %s: %s", o->tmp, strerror(errno));
		close(fd);
		unlink(o->tmp);
		goto fail;
	}
	return true;

fail:
	free(o->tmp);
	free(o->target);
	memset(o, 0, sizeof(*o));
	return false;
}

/*
 * out_close: when ok, flush, fsync and rename the temporary file over
 * FILE; else (or when that fails) remove it, leaving FILE as it was.
 * Returns whether FILE now holds the lines; logs why not. Frees o.
 */
static bool
out_close(OutFile *o, bool ok)
{
	bool		done = ok;

	if (done && (fflush(o->f) != 0 || (o->tmp != NULL && fsync(fileno(o->f)) != 0)))
		done = false;
	if (fclose(o->f) != 0)
		done = false;
	if (ok && !done)
		log_error("extract", "cannot write %s: %s", o->tmp ? o->tmp : o->target,
				  strerror(errno));
	if (done && o->tmp != NULL && rename(o->tmp, o->target) != 0)
	{
		log_error("extract", "cannot rename %s to %s: %s", o->tmp, o->target, strerror(errno));
		done = false;
	}
	if (!done && o->tmp != NULL)
		unlink(o->tmp);
	free(o->tmp);
	free(o->target);
	return done;
}

int
cmd_extract(const CliOptions *cli, EtlConfig *top)
{
	EtlConfig  *cfg;
	Pipeline	p = {0};
	ApiClient  *api = NULL;
	OutFile		file = {0};
	FILE	   *out = stdout;
	PipeStatus	st = PIPE_FAILED;
	int64_t		from;
	int64_t		to;
	double		t0 = now_seconds();
	int			rc = cli_one_operation(cli, top, "extract", &cfg);

	if (rc != EXIT_OK)
		return rc;
	if (!parse_range(cli, &from, &to))
		return EXIT_USAGE;
	if (!need_api(cfg))
		return EXIT_USAGE;
	if (cli->output != NULL && strcmp(cli->output, "-") != 0)
	{
		if (!out_open(&file, cli->output))
			return EXIT_FAILED;
		out = file.f;
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
	if (out != stdout && !out_close(&file, st == PIPE_OK) && st == PIPE_OK)
		st = PIPE_FAILED;
	print_summary(cfg, "extract", &p, st, 0, now_seconds() - t0);
	api_client_free(api);
	return exit_code(st);
}
