/*
 * cli/common.c
 *   Helpers every command shares: --from/--to, opening the API client and
 *   the warehouse, exit codes and status words, and the run's summary line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/wvtime.h"

/* parse_time_arg: see cli.h. */
bool
parse_time_arg(const char *opt, const char *s, int64_t *out)
{
	WallTime	w;

	if (s == NULL)
	{
		fprintf(stderr, "wvetl: %s is required\n", opt);
		return false;
	}
	if (!wvtime_parse_wall(s, strlen(s), &w))
	{
		fprintf(stderr, "wvetl: %s \"%s\": expected YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS' or YYYYmmddHHiiss\n",
				opt, s);
		return false;
	}
	*out = wvtime_local_to_epoch(&w);
	if (!wvtime_in_service(*out))
	{
		fprintf(stderr, "wvetl: %s \"%s\": no Wolkvox operation has dates before "
				WVTIME_SERVICE_FROM " or from " WVTIME_SERVICE_UNTIL " on\n", opt, s);
		return false;
	}
	return true;
}

/* parse_range: --from and --to, both required (see parse_span). */
bool
parse_range(const CliOptions *cli, int64_t *from, int64_t *to)
{
	if (cli->from == NULL || cli->to == NULL)
	{
		fprintf(stderr, "wvetl: %s is required\n", cli->from == NULL ? "--from" : "--to");
		return false;
	}
	return parse_span(cli, from, to);
}

/* parse_span: --from and --to, each optional (INT64_MIN / INT64_MAX when
 * not given), from before to when both are; false with a message. */
bool
parse_span(const CliOptions *cli, int64_t *from, int64_t *to)
{
	*from = INT64_MIN;
	*to = INT64_MAX;
	if ((cli->from != NULL && !parse_time_arg("--from", cli->from, from)) ||
		(cli->to != NULL && !parse_time_arg("--to", cli->to, to)))
		return false;
	if (*from >= *to)
	{
		fprintf(stderr, "wvetl: --from must be before --to (the range is [from, to))\n");
		return false;
	}
	return true;
}

/* need_api: the API settings a fetch needs; false with a config message. */
bool
need_api(const EtlConfig *cfg)
{
	if (config_endpoint(cfg) == NULL)
	{
		log_error("config", "api.server (or api.base_url) is not set: wvetl does not know which "
				  "Wolkvox server to ask");
		return false;
	}
	if (cfg->token == NULL || *cfg->token == '\0')
	{
		log_error("config", "api.token is not set: put it in the config file or in $WOLKVOX_TOKEN");
		return false;
	}
	return true;
}

ApiClient *
open_api(const EtlConfig *cfg)
{
	ApiOptions	o = {0};
	char		errbuf[ETL_ERRLEN];
	ApiClient  *api;

	o.endpoint = config_endpoint(cfg);
	o.token = cfg->token;
	o.report = cfg->report;
	o.server = cfg->server;
	o.ca_file = cfg->ca_file;
	o.timeout_s = cfg->timeout_s;
	o.min_interval_s = cfg->min_interval_s;
	o.stop = &pipeline_stop_requested;
	api = api_client_new(&o, errbuf);
	if (api == NULL)
		log_error("extract", "%s", errbuf);
	return api;
}

/* open_warehouse: open_warehouse_rc, for a caller that exits 1 whatever
 * went wrong. */
Loader *
open_warehouse(const EtlConfig *cfg, bool migrate)
{
	int			rc;

	return open_warehouse_rc(cfg, migrate, &rc);
}

/*
 * open_warehouse_rc: connect, check the server is what database.citus
 * says, and (migrate) make sure the schema is current. NULL on failure
 * (logged), with *rc EXIT_USAGE when the server is not what the
 * configuration says, else EXIT_FAILED.
 */
Loader *
open_warehouse_rc(const EtlConfig *cfg, bool migrate, int *rc)
{
	LoadOptions o = {0};
	Loader	   *l;
	bool		current = false;
	bool		mismatch = false;
	int			applied = 0;

	o.conninfo = cfg->conninfo;
	o.schema = cfg->schema;
	o.operation = cfg->operation;
	o.timezone = cfg->timezone;
	o.report = cfg->report;
	o.lock_timeout_s = cfg->lock_timeout_s;
	o.stop = &pipeline_stop_requested;
	o.citus = cfg->citus;
	o.privacy[0] = config_privacy_name(cfg->privacy_ani);
	o.privacy[1] = config_privacy_name(cfg->privacy_customer_id);
	o.privacy[2] = config_privacy_name(cfg->privacy_agent_dni);
	*rc = EXIT_FAILED;
	l = loader_connect(&o);
	if (l == NULL)
		return NULL;
	if (!loader_check_server(l, &mismatch))
	{
		if (mismatch)
			*rc = EXIT_USAGE;
		goto fail;
	}
	if (!migrate)
		return l;
	if (!loader_schema_current(l, &current))
		goto fail;
	if (!current)
	{
		if (!loader_migrate(l, &applied))
			goto fail;
		log_info("load", "schema %s: %d migrations applied", cfg->schema, applied);
	}
	return l;
fail:
	loader_free(l);
	return NULL;
}

/*
 * open_warehouse_existing: connect to a warehouse schema that wvetl has set
 * up and migrated, for the commands that only read it (status, questions):
 * they never create or upgrade a schema, so a mistyped database.schema
 * cannot leave a new one behind. NULL with *rc set when it cannot: 1 when
 * the database cannot be reached or read (logged), 2 when the server is
 * not what database.citus says (logged) or the schema is missing, not set
 * up or older than this wvetl (said here, naming it).
 */
Loader *
open_warehouse_existing(const EtlConfig *cfg, int *rc)
{
	Loader	   *l = open_warehouse_rc(cfg, false, rc);
	SchemaState state = SCHEMA_MISSING;

	if (l == NULL)
		return NULL;
	*rc = EXIT_FAILED;
	if (!loader_schema_state(l, &state))
		goto fail;
	*rc = EXIT_USAGE;
	switch (state)
	{
		case SCHEMA_CURRENT:
			*rc = EXIT_OK;
			return l;
		case SCHEMA_MISSING:
			log_error("config", "schema \"%s\" does not exist in this database: check "
					  "database.schema (wvetl migrate, or a load, creates it; this command "
					  "only reads)", cfg->schema);
			break;
		case SCHEMA_NOT_SET_UP:
			log_error("config", "schema \"%s\" exists but wvetl has not set it up: check "
					  "database.schema, or run wvetl migrate (this command only reads)",
					  cfg->schema);
			break;
		case SCHEMA_OLD:
			log_error("config", "schema \"%s\" was set up by an older wvetl: run wvetl "
					  "migrate (or a load) first; this command only reads", cfg->schema);
			break;
	}
fail:
	loader_free(l);
	return NULL;
}

int
exit_code(PipeStatus st)
{
	switch (st)
	{
		case PIPE_OK:
			return EXIT_OK;
		case PIPE_TRYLATER:
			return EXIT_TRYLATER;
		case PIPE_INTERRUPTED:
			return EXIT_INTERRUPTED;
		case PIPE_FAILED:
			break;
	}
	return EXIT_FAILED;
}

const char *
status_name(PipeStatus st)
{
	static const char *const names[] = {"ok", "failed", "try_later", "interrupted"};

	return names[st];
}

/* Set once a summary line has been written: main writes one for a run that
 * ended before its command could (a configuration or usage error, a lock
 * held elsewhere, a database that cannot be reached). */
static bool summary_written = false;

bool
cli_summary_written(void)
{
	return summary_written;
}

void
cli_summary_set_written(void)
{
	summary_written = true;
}

/*
 * print_summary_line: the run's last line, for monitoring: key=value (or a
 * JSON object with log.format = json) on stderr. The keys and their order
 * are an interface (README "Commands"): add, never rename. s may be NULL
 * (every count 0).
 */
void
print_summary_line(const EtlConfig *cfg, const char *command, const PipeStats *s,
				   const char *status, int64_t run_id, double seconds)
{
	static const PipeStats none;
	const LoadCounts *c;
	bool		json = cfg->log_format != NULL && strcmp(cfg->log_format, "json") == 0;
	char		operation[256];
	char		line[1024];
	int			n;

	log_quote(cfg->operation != NULL ? cfg->operation : "-", json, operation,
			  sizeof(operation));
	if (s == NULL)
		s = &none;
	c = &s->counts;
	log_progress_end();
	n = snprintf(line, sizeof(line), json
			? "{\"summary\":true,\"command\":\"%s\",\"operation\":%s,\"run\":%lld,"
			"\"status\":\"%s\",\"windows\":%llu,\"skipped\":%llu,\"records\":%llu,"
			"\"inserted\":%llu,\"updated\":%llu,\"duplicates\":%llu,\"rejects\":%llu,"
			"\"api_calls\":%llu,\"bytes\":%llu,\"seconds\":%.3f}\n"
			: "summary command=%s operation=%s run=%lld status=%s windows=%llu skipped=%llu "
			"records=%llu inserted=%llu updated=%llu duplicates=%llu rejects=%llu "
			"api_calls=%llu bytes=%llu seconds=%.3f\n",
			command, operation, (long long) run_id, status,
			(unsigned long long) s->windows_done,
			(unsigned long long) s->windows_skipped,
			(unsigned long long) c->records, (unsigned long long) c->inserted,
			(unsigned long long) c->updated, (unsigned long long) c->duplicates,
			(unsigned long long) c->rejects, (unsigned long long) c->api_calls,
			(unsigned long long) c->bytes, seconds);
	/* one write: the line stays whole beside other processes' lines */
	log_emit(line, n > 0 && (size_t) n < sizeof(line) ? (size_t) n : strlen(line));
	summary_written = true;
}

/* print_summary: the summary line of a run that went through the pipeline. */
void
print_summary(const EtlConfig *cfg, const char *command, const Pipeline *p,
			  PipeStatus st, int64_t run_id, double seconds)
{
	print_summary_line(cfg, command, &p->stats, status_name(st), run_id, seconds);
}

double
now_seconds(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
}

/* refuse_run: see cli.h. */
int
refuse_run(Loader *l, const EtlConfig *cfg, const char *command, int64_t from, int64_t to,
		   const char *status, const char *msg, double t0)
{
	bool		locked = strcmp(status, "locked") == 0;

	log_error(locked ? "load" : "config", "%s", msg);
	if (loader_run_refused(l, command, from, to, status, msg) && t0 >= 0)
		print_summary_line(cfg, command, NULL, status, loader_run_id(l), now_seconds() - t0);
	return locked ? EXIT_TRYLATER : EXIT_USAGE;
}

/* lock_operation: see cli.h. */
int
lock_operation(Loader *l, const EtlConfig *cfg, const char *command, int64_t from, int64_t to,
			   double t0)
{
	char		holder[256] = "";
	char		msg[512];

	switch (loader_lock_operation(l, holder, sizeof(holder)))
	{
		case LOCK_OK:
			return EXIT_OK;
		case LOCK_BUSY:
			/* recorded without marking the holder's run abandoned */
			snprintf(msg, sizeof(msg), "operation \"%s\" is being loaded by %s; try again later",
					 cfg->operation, holder);
			if (command != NULL)
				return refuse_run(l, cfg, command, from, to, "locked", msg, t0);
			log_error("load", "%s", msg);
			return EXIT_TRYLATER;
		case LOCK_ERROR:
			break;
	}
	return EXIT_FAILED;
}
