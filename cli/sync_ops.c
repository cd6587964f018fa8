/*
 * cli/sync_ops.c
 *   `wvetl sync` over several operations. Each operation's sync runs in a
 *   child process of its own: the time zone (TZ, which wvtime's local-time
 *   conversions read) belongs to the process, and so do the stop flag, the
 *   log's run id and the summary flag. A process per operation gives each
 *   its own of all these, and its own libpq connection, curl handle,
 *   advisory lock, etl_run row and summary line, sharing nothing but
 *   stderr (log_emit writes each line whole).
 *
 *   The parent only schedules: at most sync.parallel children at once, and
 *   never two whose operations share a token (compared by value, never
 *   shown), since the API answers one request at a time per token: such
 *   operations take turns, the next starting no sooner than api.min_interval
 *   (the longer of the two operations') after the previous one ended. The
 *   exit status is the worst of theirs (worst_exit).
 *
 *   Signals: each child leads a process group of its own, so a terminal's
 *   Ctrl-C reaches the parent alone, and the parent passes each SIGINT or
 *   SIGTERM it gets on to the running children: the first stops them
 *   cleanly (the window in flight rolled back, the run recorded as
 *   interrupted), a second kills them, as for the sync of one operation.
 *   The parent starts no more operations then, and waits for every child.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/log.h"

typedef enum SlotState
{
	SLOT_WAITING = 0,
	SLOT_RUNNING,
	SLOT_DONE
} SlotState;

/* One operation of the run. */
typedef struct OpSlot
{
	EtlConfig  *op;
	int			group;			/* the first slot whose operation has the same token */
	SlotState	state;
	pid_t		pid;
	int			rc;				/* its exit status, once done */
} OpSlot;

/* A token's last turn (indexed by group): when the operation that had it
 * ended, and its api.min_interval (0 before any). */
typedef struct TokenTurn
{
	double		ended_at;		/* monotonic_now() */
	double		interval;
} TokenTurn;

/* The running children's pids, for the signal handler: an entry changes
 * only while SIGINT and SIGTERM are blocked. */
static pid_t *child_pids = NULL;
static int	n_child_pids = 0;

/*
 * on_parent_signal: remember to stop (start no more operations) and pass
 * the signal on to every running child.
 */
static void
on_parent_signal(int sig)
{
	pipeline_stop_requested = 1;
	for (int i = 0; i < n_child_pids; i++)
		if (child_pids[i] > 0)
			(void) kill(child_pids[i], sig);
}

static double
monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* same_token: both operations have a token, and it is the same. */
static bool
same_token(const EtlConfig *a, const EtlConfig *b)
{
	return a->token != NULL && b->token != NULL && a->token[0] != '\0' &&
		strcmp(a->token, b->token) == 0;
}

/*
 * exit_rank: how bad an exit status is: 0 < 75 (try later) < 1 (failed) <
 * 2 (configuration) < 130 (interrupted) < anything else (a crash, a
 * sanitizer's report: never hidden behind a better status).
 */
static int
exit_rank(int rc)
{
	switch (rc)
	{
		case EXIT_OK:
			return 0;
		case EXIT_TRYLATER:
			return 1;
		case EXIT_FAILED:
			return 2;
		case EXIT_USAGE:
			return 3;
		case EXIT_INTERRUPTED:
			return 4;
	}
	return 5;
}

/* worst_exit: see cli.h. */
int
worst_exit(int a, int b)
{
	return exit_rank(b) > exit_rank(a) ? b : a;
}

/*
 * child_status: the exit status a waitpid status stands for. A child
 * killed by the second SIGINT or SIGTERM was interrupted; killed by any
 * other signal it failed (said in the log).
 */
static int
child_status(const OpSlot *s, int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status) && pipeline_stop_requested &&
		(WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM))
		return EXIT_INTERRUPTED;
	log_error("pipeline", "the sync of operation \"%s\" (pid %d) ended by signal %d",
			  s->op->operation, (int) s->pid, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return EXIT_FAILED;
}

/*
 * can_start: slot i waits and no running operation shares its token, the
 * last one that did having ended at least api.min_interval ago (the
 * longer of its and slot i's). *later: it could start but for that
 * interval.
 */
static bool
can_start(const OpSlot *slots, int n, int i, const TokenTurn *turns, bool *later)
{
	const OpSlot *s = &slots[i];
	const TokenTurn *t = &turns[s->group];
	double		interval = t->interval > s->op->min_interval_s ? t->interval
		: s->op->min_interval_s;

	if (s->state != SLOT_WAITING)
		return false;
	for (int j = 0; j < n; j++)
		if (slots[j].state == SLOT_RUNNING && slots[j].group == s->group)
			return false;
	if (t->ended_at > 0 && monotonic_now() < t->ended_at + interval)
	{
		*later = true;
		return false;
	}
	return true;
}

/*
 * start_child: fork the sync of slot i. Returns the pid in the parent, 0
 * in the child (which has its signal handling back as main set it, leads
 * its own process group, and names its operation on every log line), -1
 * when fork failed (logged).
 */
static pid_t
start_child(OpSlot *slots, int i, const struct sigaction *old_int,
			const struct sigaction *old_term)
{
	sigset_t	block;
	sigset_t	saved;
	pid_t		pid;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &saved);
	fflush(NULL);				/* nothing buffered is written twice */
	pid = fork();
	if (pid == 0)
	{
		sigaction(SIGINT, old_int, NULL);
		sigaction(SIGTERM, old_term, NULL);
		(void) setpgid(0, 0);
		sigprocmask(SIG_SETMASK, &saved, NULL);
		return 0;
	}
	if (pid > 0)
	{
		slots[i].pid = pid;
		slots[i].state = SLOT_RUNNING;
		child_pids[i] = pid;
		/* a signal that came before the pid was known is passed on now */
		if (pipeline_stop_requested)
			(void) kill(pid, SIGTERM);
	}
	else
		log_error("pipeline", "cannot start the sync of operation \"%s\": %s",
				  slots[i].op->operation, strerror(errno));
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return pid;
}

/* reap: slot of pid is done with its exit status; its token's turn ended
 * now. */
static void
reap(OpSlot *slots, int n, pid_t pid, int status, TokenTurn *turns)
{
	sigset_t	block;
	sigset_t	saved;

	for (int i = 0; i < n; i++)
	{
		if (slots[i].state != SLOT_RUNNING || slots[i].pid != pid)
			continue;
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		sigprocmask(SIG_BLOCK, &block, &saved);
		child_pids[i] = 0;
		sigprocmask(SIG_SETMASK, &saved, NULL);
		slots[i].state = SLOT_DONE;
		slots[i].rc = child_status(&slots[i], status);
		turns[slots[i].group].ended_at = monotonic_now();
		turns[slots[i].group].interval = slots[i].op->min_interval_s;
		return;
	}
}

/* pause_briefly: 50 ms, or less when a signal comes. */
static void
pause_briefly(void)
{
	struct timespec ts = {0, 50 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

/*
 * schedule: run the slots' syncs to the end, as the file's comment says.
 * Returns -1 in the parent when every child has been waited for (or
 * never started: stop asked), else (in a child) the operation's index.
 */
static int
schedule(OpSlot *slots, int n, const EtlConfig *cfg, TokenTurn *turns,
		 const struct sigaction *old_int, const struct sigaction *old_term)
{
	int			parallel = (int) cfg->parallel;

	for (;;)
	{
		int			running = 0;
		int			waiting = 0;
		bool		later = false;
		int			status;
		pid_t		pid;

		for (int i = 0; i < n; i++)
			running += slots[i].state == SLOT_RUNNING;
		for (int i = 0; i < n && running < parallel && !pipeline_stop_requested; i++)
		{
			if (!can_start(slots, n, i, turns, &later))
				continue;
			pid = start_child(slots, i, old_int, old_term);
			if (pid == 0)
				return i;
			if (pid < 0)
			{
				slots[i].state = SLOT_DONE;
				slots[i].rc = EXIT_FAILED;
				continue;
			}
			running++;
		}
		for (int i = 0; i < n; i++)
			waiting += slots[i].state == SLOT_WAITING;
		if (running == 0 && (waiting == 0 || pipeline_stop_requested))
			return -1;
		if (later || running == 0)
		{
			/* an operation waits for its token's api.min_interval */
			pid = waitpid(-1, &status, WNOHANG);
			if (pid <= 0)
			{
				pause_briefly();
				continue;
			}
		}
		else if ((pid = waitpid(-1, &status, 0)) < 0)
		{
			if (errno == EINTR)
				continue;
			log_error("pipeline", "waiting for the operations' syncs: %s", strerror(errno));
			return -1;
		}
		reap(slots, n, pid, status, turns);
	}
}

/*
 * cli_sync_operations: sync ops (several operations of cfg) as the file's
 * comment says. In the parent, returns the worst of their exit statuses
 * once every child has ended, every operation having had its summary line
 * (the parent writes one, status interrupted, for each it did not start).
 * In a child, returns that operation's exit status: the caller returns it
 * from the command, as for a sync of one operation.
 */
int
cli_sync_operations(EtlConfig *cfg, EtlConfig **ops, int n)
{
	OpSlot	   *slots = calloc((size_t) n, sizeof(OpSlot));
	TokenTurn  *turns = calloc((size_t) n, sizeof(TokenTurn));
	struct sigaction sa;
	struct sigaction old_int;
	struct sigaction old_term;
	int			child;
	int			rc = EXIT_OK;

	child_pids = calloc((size_t) n, sizeof(pid_t));
	if (slots == NULL || turns == NULL || child_pids == NULL)
	{
		log_error("pipeline", "out of memory");
		rc = EXIT_FAILED;
		goto done;
	}
	for (int i = 0; i < n; i++)
	{
		slots[i].op = ops[i];
		slots[i].group = i;
		for (int j = 0; j < i && slots[i].group == i; j++)
			if (same_token(ops[i], ops[j]))
				slots[i].group = slots[j].group;
	}
	n_child_pids = n;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_parent_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	log_info("pipeline", "syncing %d operations, at most %lld at once", n,
			 (long long) cfg->parallel);

	child = schedule(slots, n, cfg, turns, &old_int, &old_term);
	if (child >= 0)
	{
		EtlConfig  *op = slots[child].op;

		free(slots);
		free(turns);
		free(child_pids);
		child_pids = NULL;
		n_child_pids = 0;
		if (!cli_enter_operation(cfg, op))
			return EXIT_USAGE;
		return cli_sync(op, false);
	}

	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	n_child_pids = 0;
	for (int i = 0; i < n; i++)
	{
		if (slots[i].state == SLOT_WAITING)
		{
			/* stop asked before it started: no run of it, but its line */
			slots[i].rc = EXIT_INTERRUPTED;
			print_summary_line(slots[i].op, "sync", NULL, "interrupted", 0, 0);
		}
		rc = worst_exit(rc, slots[i].rc);
	}
	cli_summary_set_written();

done:
	free(slots);
	free(turns);
	free(child_pids);
	child_pids = NULL;
	return rc;
}
