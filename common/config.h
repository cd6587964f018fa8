/*
 * common/config.h
 *   The effective configuration. One table (config_keys.c) lists every key
 *   with its type, default and help; the same setter parses defaults, file
 *   values (config_file.c, GLib's GKeyFile: no line limit, ';' inside values
 *   kept), environment and --set overrides (config.c), in that order of
 *   precedence.
 */
#ifndef WVETL_CONFIG_H
#define WVETL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/etl.h"
#include "common/record.h"

/* Fewer bytes than this in privacy.key_file is a configuration error. */
#define PRIVACY_KEY_MIN 16

/* Where a value came from, for `wvetl config` and error messages. An
 * operation's value comes, in rising precedence, from the default, the
 * file's top-level sections, the environment, its own [operation NAME]
 * section, or --set. */
typedef enum ConfigSource
{
	CONF_DEFAULT = 0,
	CONF_FILE,					/* [api], [sync], ... of the file */
	CONF_ENV,
	CONF_SET,
	CONF_SECTION				/* the operation's [operation NAME] section */
} ConfigSource;

/* Most keys the table may hold (source[] and line[] are this long). */
#define CONFIG_MAX_KEYS 64

typedef struct RejectLimit
{
	bool		percent;		/* value is a percentage of the window's records */
	double		value;
} RejectLimit;

typedef struct EtlConfig EtlConfig;

struct EtlConfig
{
	/* [api] */
	char	   *server;
	char	   *base_url;
	char	   *token;			/* secret: never logged; registered with the logger */
	char	   *token_file;		/* read into token by config_finish */
	char	   *timezone;
	char	   *report;
	char	   *ca_file;
	double		window_s;
	int64_t		max_records;
	double		timeout_s;
	int64_t		retries;
	double		min_interval_s;
	double		backoff_s;
	double		maintenance_wait_s;
	RejectLimit max_rejects;

	/* [database] */
	char	   *conninfo;
	char	   *schema;
	double		lock_timeout_s;
	bool		citus;			/* the warehouse is on a Citus coordinator */

	/* [sync] */
	char	   *operation;		/* defaults to server when unset */
	char	   *start;			/* raw text; parsed with wvtime_parse_wall */
	double		lag_s;
	double		lookback_s;
	int64_t		parallel;		/* operations synced at once */

	/* [archive] */
	char	   *archive_dir;

	/* [retention] */
	int64_t		retention_days; /* prune keeps this many days; 0: no limit */

	/* [privacy] */
	PrivacyMode privacy_ani;
	PrivacyMode privacy_customer_id;
	PrivacyMode privacy_agent_dni;
	char	   *privacy_key_file;

	/* [log] */
	char	   *log_level;
	char	   *log_format;

	/*
	 * The [operation NAME] sections, in file order: each one a whole
	 * configuration of its own, its section's keys over the top level's
	 * ([api], [sync], ... being the defaults it inherits), with operation =
	 * NAME. config_load_file and config_set fill in what the section and
	 * --set give; config_finish inherits the rest and checks each. None
	 * (nops 0) in a file without such sections: the top level is then the
	 * one operation. config_operation() hides the difference.
	 */
	EtlConfig  *ops;
	int			nops;
	int			section_line;	/* an operation's: the line of its [operation NAME] */

	/* bookkeeping */
	char	   *path;			/* the file read, or NULL */
	char	   *endpoint;		/* built by config_finish */
	bool		insecure_file;	/* the file holds a secret and is group/other readable */
	const char *insecure_what;	/* which: "api.token", "a password in database.conninfo" */
	char	   *insecure_token_file;	/* api.token_file, when group/other readable */
	char	   *privacy_key;	/* secret: privacy.key_file's bytes, when a mode is hash */
	size_t		privacy_key_len;
	bool		key_insecure;	/* privacy.key_file is group/other readable */
	ConfigSource source[CONFIG_MAX_KEYS];	/* per key, indexed like the table */
	int			line[CONFIG_MAX_KEYS];	/* per key: line in the file, 0 if not from it */
};

/* Fill cfg with built-in defaults. */
void		config_init(EtlConfig *cfg);

/* Read path (NULL: no file). missing_ok: a missing file is not an error.
 * Errors are "file:line: what is wrong" in errbuf. */
bool		config_load_file(EtlConfig *cfg, const char *path, bool missing_ok,
							 char *errbuf);

/* Apply $WOLKVOX_TOKEN to the top level (PG* variables are libpq's own
 * business): operations without a token of their own inherit it. */
bool		config_apply_env(EtlConfig *cfg, char *errbuf);

/* Apply one "section.key=value" (from --set), to the top level and to
 * every operation: it wins over their sections. */
bool		config_set(EtlConfig *cfg, const char *assignment, char *errbuf);

/* Cross-key checks and derived defaults (operation from server, window
 * at most 31 days, an endpoint is known, the token read from
 * api.token_file), for the top level and each operation after it has
 * inherited the top level's values. Run once after all sources. */
bool		config_finish(EtlConfig *cfg, char *errbuf);

/* The operations a run may cover: the [operation NAME] sections, or the
 * top level itself in a file without them. i < config_operation_count. */
int			config_operation_count(const EtlConfig *cfg);
EtlConfig  *config_operation(EtlConfig *cfg, int i);

/* The operation named name (the top level's sync.operation in a file
 * without sections), or NULL. */
EtlConfig  *config_find_operation(EtlConfig *cfg, const char *name);

/* "keep", "hash" or "drop". */
const char *config_privacy_name(PrivacyMode m);

/* The endpoint URL: base_url, or the one built from server. Owned by cfg. */
const char *config_endpoint(const EtlConfig *cfg);

/* Print every key, its value (token and conninfo password masked) and
 * where it came from ("default", "FILE:LINE", "environment (...)",
 * "--set"); then each operation's own keys the same way; then the PG*
 * variables libpq reads (PGPASSWORD masked). */
void		config_print(const EtlConfig *cfg, FILE *out);

/* conninfo as libpq reads it (PQconninfoParse), written back as
 * key=value with every secret option (password, sslpassword) as ***, into
 * out (always NUL-terminated); a string libpq cannot parse is not shown. */
void		config_mask_conninfo(const char *conninfo, char *out, size_t size);

/* The secrets of a connection string (password, sslpassword: the options
 * libpq never shows) as libpq reads them, for the logger's list: at most
 * max, each strdup'd into out (the caller frees them). Returns how many. */
size_t		config_conninfo_secrets(const char *conninfo, char **out, size_t max);

/* Print every key (only == NULL) or the key "section.name" only, with its
 * default ("-": none) and help; for --help and COMMAND --help. */
void		config_print_help(FILE *out, const char *only);

void		config_free(EtlConfig *cfg);

#endif							/* WVETL_CONFIG_H */
