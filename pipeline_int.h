/*
 * pipeline_int.h
 *   What pipeline.c (the window loop) and pipeline_attempt.c (one attempt
 *   at a window) share; nothing else includes it.
 */
#ifndef WVETL_PIPELINE_INT_H
#define WVETL_PIPELINE_INT_H

#include "pipeline.h"

/* How an attempt at a window ended, for the loop to act on. */
typedef enum AttemptResult
{
	AT_DONE = 0,
	AT_RETRY,
	AT_RETRY_MAINT,
	AT_SPLIT,
	AT_CONFLICT,
	AT_FAILED,
	AT_QUOTA,
	AT_INTERRUPTED,
	AT_ARCHIVE_LOST				/* committed, but its archive file is not kept */
} AttemptResult;

/* window_attempt: one try at [from, to) in mode: open, fetch, classify
 * the answer, commit. why gets the reason when it is not AT_DONE. */
AttemptResult window_attempt(Pipeline *p, int64_t from, int64_t to, LoadMode mode,
							 char *why);

/* window_name: "[from, to)" in local time, for messages. */
void		window_name(int64_t from, int64_t to, char *out, size_t size);

#endif							/* WVETL_PIPELINE_INT_H */
