/*
 * pipeline.h
 *   Wires the stages: extract hands body bytes to the transform, the
 *   transform hands typed records to a target (the loader, or a JSON-lines
 *   writer for `wvetl extract`). Owns the window loop: windows of
 *   api.window, retries with backoff, splitting a window that reaches the
 *   record cap, and the fast-to-merge fallback. The only file that includes
 *   more than one stage's header.
 */
#ifndef WVETL_PIPELINE_H
#define WVETL_PIPELINE_H

#include <signal.h>
#include <stdio.h>

#include "common/config.h"
#include "extract/extract.h"
#include "load/load.h"

/* Set by the SIGINT/SIGTERM handler; every loop checks it. */
extern volatile sig_atomic_t pipeline_stop_requested;

typedef enum PipeStatus
{
	PIPE_OK = 0,
	PIPE_FAILED,				/* exit 1 */
	PIPE_TRYLATER,				/* exit 75: token's daily limit */
	PIPE_INTERRUPTED			/* exit 130 */
} PipeStatus;

typedef struct PipeStats
{
	LoadCounts	counts;			/* summed over committed windows */
	uint64_t	windows_done;
	uint64_t	windows_total;
	uint64_t	windows_skipped;
	char		error[ETL_ERRLEN];	/* the reason of a non-OK status */
} PipeStats;

typedef struct Pipeline
{
	const EtlConfig *cfg;
	ApiClient  *api;			/* NULL for replay */
	Loader	   *loader;			/* NULL for extract */
	FILE	   *out;			/* extract: JSON lines go here */
	const char *replay_path;	/* replay: the body comes from this file */
	bool		reload;			/* merge every window, load covered ones again */
	bool		move_watermark; /* sync */
	bool		progress;		/* show a progress line (a terminal) */
	bool		skip_loaded;	/* set by pipeline_run: backfill resumes */
	PipeStats	stats;
} Pipeline;

/*
 * pipeline_run: load (or extract) [from, to) window by window. Windows
 * already covered by loaded windows are skipped unless reload. Fills
 * p->stats; returns the status the run ends with.
 */
PipeStatus	pipeline_run(Pipeline *p, int64_t from, int64_t to);

/* The end of the window that starts at t, never past limit: when window
 * is N whole days, the local midnight N days after t's local date (from
 * the calendar: day windows end, and so start, on local midnights across
 * every DST change; a range that starts mid-day gets a shorter first
 * window); else t + window. */
int64_t		pipeline_window_end(int64_t t, double window_s, int64_t limit);

#endif							/* WVETL_PIPELINE_H */
