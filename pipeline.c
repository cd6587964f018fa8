/*
 * pipeline.c
 *   The window loop: extract -> transform -> target, one window at a time,
 *   with retries, the record-cap split and the fast-to-merge fallback.
 *   A target is the loader (load/load.h) or, for `wvetl extract`, a spool
 *   file of JSON lines copied to the output when the window is complete, so
 *   that a retried window never writes a line twice. One attempt at a
 *   window is pipeline_attempt.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/wvtime.h"
#include "pipeline_int.h"

volatile sig_atomic_t pipeline_stop_requested = 0;

static PipeStatus window_load(Pipeline *p, int64_t from, int64_t to);

/* sleep_interruptible: sleep seconds, returning false when asked to stop. */
static bool
sleep_interruptible(double seconds)
{
	while (seconds > 0 && !pipeline_stop_requested)
	{
		double		slice = seconds < 0.1 ? seconds : 0.1;
		struct timespec ts;

		ts.tv_sec = (time_t) slice;
		ts.tv_nsec = (long) ((slice - (double) ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
		seconds -= slice;
	}
	return !pipeline_stop_requested;
}

/* fail: remember why the window ended the run; returns st, or
 * PIPE_INTERRUPTED for a failure a SIGINT/SIGTERM caused. */
static PipeStatus
fail(Pipeline *p, PipeStatus st, const char *name, const char *why)
{
	/* a SIGINT/SIGTERM cancels the statement in flight (load/pg.c): the
	 * window failed because the run was interrupted */
	if (st == PIPE_FAILED && pipeline_stop_requested)
	{
		st = PIPE_INTERRUPTED;
		why = "interrupted";
	}
	etl_seterr(p->stats.error, "window %s: %s", name, why);
	/* it goes to etl_run.error too: no secret there either (rule 11), and
	 * no terminal escape (`wvetl status` shows it) */
	log_scrub(p->stats.error, sizeof(p->stats.error));
	etl_text_defang(p->stats.error, true);
	return st;
}

/*
 * window_load: [from, to) loaded completely, or a status saying why not.
 * Retries what is worth retrying, splits at the record cap, and loads again
 * in merge mode when the fast mode met records already there.
 */
static PipeStatus
window_load(Pipeline *p, int64_t from, int64_t to)
{
	const EtlConfig *cfg = p->cfg;
	LoadMode	mode = LOAD_FAST;
	int			attempt = 0;
	char		name[96];

	window_name(from, to, name, sizeof(name));
	if (p->loader != NULL)
	{
		bool		overlap = false;
		bool		covered = false;

		if (!loader_window_state(p->loader, from, to, &overlap, &covered))
			return fail(p, PIPE_FAILED, name, "database error (logged above)");
		/* A backfill resumes: a window (or a half of a split one) loaded
		 * before is not asked for again. */
		if (covered && p->skip_loaded)
		{
			p->stats.windows_skipped++;
			return PIPE_OK;
		}
		if (p->reload || overlap)
			mode = LOAD_MERGE;
	}

	for (;;)
	{
		char		why[ETL_ERRLEN] = "";
		AttemptResult r;
		double		delay;

		if (pipeline_stop_requested)
			return fail(p, PIPE_INTERRUPTED, name, "interrupted");
		r = window_attempt(p, from, to, mode, why);
		switch (r)
		{
			case AT_DONE:
				return PIPE_OK;
			case AT_CONFLICT:
				if (mode == LOAD_MERGE)
					return fail(p, PIPE_FAILED, name,
								"unexpected unique violation while merging");
				/* in-answer duplicates never get here (the loader merges
				 * them itself): an identity was loaded by a window that
				 * etl_window does not show overlapping this one */
				log_info("pipeline", "window %s holds records another window already loaded; "
						 "%s and merging them", name, p->replay_path != NULL
						 ? "reading the file again" : "fetching it again (one more API call)");
				mode = LOAD_MERGE;
				continue;
			case AT_SPLIT:
				{
					int64_t		mid = from + (to - from) / 2;
					PipeStatus	st;

					if (to - from <= 1)
						return fail(p, PIPE_FAILED, name,
									"the API's record cap (api.max_records) is reached within "
									"one second; nothing can be split further");
					log_info("pipeline", "window %s reached the record cap (%lld); splitting it in halves",
							 name, (long long) cfg->max_records);
					st = window_load(p, from, mid);
					if (st != PIPE_OK)
						return st;
					return window_load(p, mid, to);
				}
			case AT_RETRY:
			case AT_RETRY_MAINT:
				if (p->replay_path != NULL || attempt >= cfg->retries)
				{
					char		msg[ETL_ERRLEN];

					etl_seterr(msg, "%s (after %d attempts)", why, attempt + 1);
					return fail(p, PIPE_FAILED, name, msg);
				}
				delay = api_backoff_delay(r == AT_RETRY ? API_RETRY : API_RETRY_MAINT, attempt,
										  cfg->backoff_s, cfg->maintenance_wait_s);
				log_warn("pipeline", "window %s: %s; retry %d of %lld in %.1fs", name, why,
						 attempt + 1, (long long) cfg->retries, delay);
				if (!sleep_interruptible(delay))
					return fail(p, PIPE_INTERRUPTED, name, "interrupted");
				attempt++;
				continue;
			case AT_FAILED:
				return fail(p, PIPE_FAILED, name, why);
			case AT_QUOTA:
				{
					char		msg[ETL_ERRLEN];

					etl_seterr(msg, "%s; what is loaded stays loaded, run again "
							   "after the token's daily limit resets", why);
					return fail(p, PIPE_TRYLATER, name, msg);
				}
			case AT_INTERRUPTED:
				return fail(p, PIPE_INTERRUPTED, name, why);
			case AT_ARCHIVE_LOST:
				return fail(p, PIPE_FAILED, name, why);
		}
	}
}

int64_t
pipeline_window_end(int64_t t, double window_s, int64_t limit)
{
	int64_t		end;

	if (window_s >= 86400 && fmod(window_s, 86400) == 0)
		end = wvtime_day_start(t, (int) (window_s / 86400));
	else
		end = t + (int64_t) window_s;
	return end < limit ? end : limit;
}

/* progress_clock: seconds on the monotonic clock, to the microsecond (a
 * whole-second clock shows 0 records/s for the first windows). */
static double
progress_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
show_progress(Pipeline *p, double started)
{
	double		elapsed = progress_clock() - started;
	double		rate = elapsed > 0 ? (double) p->stats.counts.records / elapsed : 0;
	uint64_t	done = p->stats.windows_done + p->stats.windows_skipped;
	double		eta = done > 0 ? elapsed / (double) done *
		(double) (p->stats.windows_total - done) : 0;

	log_progress("windows %llu/%llu, %llu records, %.0f records/s, ETA %02d:%02d:%02d",
				 (unsigned long long) done, (unsigned long long) p->stats.windows_total,
				 (unsigned long long) p->stats.counts.records, rate,
				 (int) (eta / 3600), (int) fmod(eta / 60, 60), (int) fmod(eta, 60));
}

/* A replayed body is one window: [from, to) as the user gave it. */
static int64_t
next_end(const Pipeline *p, int64_t t, int64_t to)
{
	if (p->replay_path != NULL)
		return to;
	return pipeline_window_end(t, p->cfg->window_s, to);
}

PipeStatus
pipeline_run(Pipeline *p, int64_t from, int64_t to)
{
	double		started = progress_clock();

	p->skip_loaded = (p->loader != NULL && !p->reload && !p->move_watermark &&
					  p->replay_path == NULL);
	p->stats.windows_total = 0;
	for (int64_t t = from; t < to; t = next_end(p, t, to))
		p->stats.windows_total++;

	for (int64_t t = from; t < to;)
	{
		int64_t		end = next_end(p, t, to);
		uint64_t	skipped = p->stats.windows_skipped;
		PipeStatus	st;

		st = window_load(p, t, end);
		if (st != PIPE_OK)
		{
			log_progress_end();
			return st;
		}
		/* A window skipped whole was counted by window_load; a split one
		 * whose half was skipped counts once, as skipped, too. */
		if (p->stats.windows_skipped == skipped)
			p->stats.windows_done++;
		if (p->progress)
			show_progress(p, started);
		t = end;
	}
	log_progress_end();
	if (p->stats.windows_skipped > 0)
		log_info("pipeline", "%llu windows were loaded before and skipped (--reload loads them again)",
				 (unsigned long long) p->stats.windows_skipped);
	return PIPE_OK;
}
