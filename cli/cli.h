/*
 * cli/cli.h
 *   What the command files share: the parsed command line, and the helpers
 *   every command uses (time ranges, opening the API and the warehouse,
 *   exit codes, the summary line). main.c parses and dispatches; each
 *   file in cli/ holds one family of commands.
 */
#ifndef WVETL_CLI_H
#define WVETL_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "pipeline.h"

#define MAX_SETS 64
#define MAX_OPERATIONS 64

typedef struct CliOptions
{
	const char *config_path;
	const char *sets[MAX_SETS];
	int			nsets;
	int			verbosity;		/* -q: -1, -v: 1, -vv: 2 */
	const char *command;
	const char *from;
	const char *to;
	const char *output;
	const char *file;			/* replay FILE */
	const char *arg2;			/* questions set N: N */
	const char *label;			/* questions set N: --label, --min, --max */
	const char *scale_min;
	const char *scale_max;
	const char *operations[MAX_OPERATIONS];	/* --operation NAME... */
	int			noperations;
	const char *kind;			/* questions set N: --kind */
	bool		reload;
	bool		change_timezone;	/* migrate --change-timezone */
	bool		all;			/* status --all */
	bool		json;			/* rejects --json */
	bool		repair;			/* verify --repair */
	bool		change_privacy; /* migrate --change-privacy */
	const char *before;			/* prune --before T */
	bool		help;
} CliOptions;

/* cli/common.c */
/* parse_time_arg: an option's time value (opt names it: "--from") in the
 * process's zone -> epoch; false with a message on stderr. */
extern bool parse_time_arg(const char *opt, const char *s, int64_t *out);
extern bool parse_range(const CliOptions *cli, int64_t *from, int64_t *to);
extern bool parse_span(const CliOptions *cli, int64_t *from, int64_t *to);
extern bool need_api(const EtlConfig *cfg);
extern ApiClient *open_api(const EtlConfig *cfg);
extern Loader *open_warehouse(const EtlConfig *cfg, bool migrate);
extern Loader *open_warehouse_rc(const EtlConfig *cfg, bool migrate, int *rc);
extern Loader *open_warehouse_existing(const EtlConfig *cfg, int *rc);
extern int	exit_code(PipeStatus st);
extern const char *status_name(PipeStatus st);
extern bool cli_summary_written(void);
/* Every summary line has been written (by the processes of a sync of
 * several operations): main writes none of its own. */
extern void cli_summary_set_written(void);
/* The configuration main's own summary line names: the operation entered
 * (cli_enter_operation), else top. */
extern const EtlConfig *cli_summary_config(const EtlConfig *top);
extern void print_summary_line(const EtlConfig *cfg, const char *command, const PipeStats *s,
							   const char *status, int64_t run_id, double seconds);
extern void print_summary(const EtlConfig *cfg, const char *command, const Pipeline *p,
						  PipeStatus st, int64_t run_id, double seconds);
extern double now_seconds(void);

/*
 * refuse_run: a run refused before it began (status "locked": another run
 * holds the operation; "config_error": a check of the configuration
 * against the warehouse failed): msg logged, the run recorded in etl_run,
 * and, when t0 >= 0 (the run's start), its summary line printed. Returns
 * the exit status: 75 for locked, else 2.
 * lock_operation: take the operation's advisory lock for command over
 * [from, to): EXIT_OK when held, else the exit status of a refused run
 * (refuse_run; with command NULL only logged, not recorded: 75) or
 * EXIT_FAILED (a database error, logged).
 */
extern int	refuse_run(Loader *l, const EtlConfig *cfg, const char *command, int64_t from,
					   int64_t to, const char *status, const char *msg, double t0);
extern int	lock_operation(Loader *l, const EtlConfig *cfg, const char *command, int64_t from,
						   int64_t to, double t0);

/* cli/operations.c: which operations a command works on */
extern int	cli_operations(const CliOptions *cli, EtlConfig *cfg, EtlConfig ***ops, int *n);
extern bool cli_enter_operation(const EtlConfig *cfg, const EtlConfig *op);
extern int	cli_one_operation(const CliOptions *cli, EtlConfig *cfg, const char *command,
							  EtlConfig **op);

/* cli/sync_ops.c: the sync of several operations, a process each */
extern int	cli_sync_operations(EtlConfig *cfg, EtlConfig **ops, int n);
/* worst_exit: the worse of two exit statuses (interrupted over usage over
 * failed over try later over ok). */
extern int	worst_exit(int a, int b);

/* cli/prune.c: retention */
extern int	cmd_prune(const CliOptions *cli, EtlConfig *cfg);

/* cli/load_cmds.c: the commands that fetch or load */
/* cli_sync: the sync of one operation (its zone entered); progress: it
 * may draw a progress line on a terminal. Returns the exit status. */
extern int	cli_sync(EtlConfig *op, bool progress);
extern int	cmd_sync(const CliOptions *cli, EtlConfig *cfg);
extern int	cmd_backfill(const CliOptions *cli, EtlConfig *cfg);
extern int	cmd_replay(const CliOptions *cli, EtlConfig *cfg);
extern int	cmd_extract(const CliOptions *cli, EtlConfig *cfg);

/* cli/admin_cmds.c: the warehouse's upkeep and what it shows */
extern int	cmd_migrate(const CliOptions *cli, EtlConfig *cfg);
extern int	cmd_status(const CliOptions *cli, EtlConfig *cfg);
extern int	cmd_rejects(const CliOptions *cli, EtlConfig *cfg);

/* cli/verify_cmd.c: the rollups checked against the surveys */
extern int	cmd_verify(const CliOptions *cli, EtlConfig *cfg);
extern int	cmd_questions(const CliOptions *cli, EtlConfig *cfg);
extern int	cmd_config(const CliOptions *cli, EtlConfig *cfg);
extern int	cmd_grant(const CliOptions *cli, EtlConfig *cfg);
extern int	cmd_revoke(const CliOptions *cli, EtlConfig *cfg);

#endif							/* WVETL_CLI_H */
