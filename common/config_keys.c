/*
 * common/config_keys.c
 *   The configuration's key table: each key declared once in config_keys[]
 *   with its section, type, field, default and help. One setter parses a
 *   value of any source into its field (config_assign); the same table
 *   gives the defaults, the "did you mean" of an unknown key, the values as
 *   `wvetl config` shows them, --help's key lines, and what to free.
 *
 *   Pure: fills an errbuf, never logs.
 */
#include <errno.h>
#include <glib.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config_int.h"
#include "common/log.h"
#include "common/wvtime.h"

#define OFF(f) offsetof(EtlConfig, f)
/* Each key says whether an [operation NAME] section may set it (PER_OP) or
 * it is one for all operations (ALL_OPS): -Wextra flags a row saying
 * neither. */
#define PER_OP CK_PER_OPERATION
#define ALL_OPS 0

const ConfigKey config_keys[] = {
	{"api", "server", CT_STRING, OFF(server), NULL,
	"the operation's server code (1 to 16 letters or digits): requests go to https://wv{server}.wolkvox.com/api/v2/reports_manager.php", PER_OP},
	{"api", "base_url", CT_STRING, OFF(base_url), NULL,
	"overrides the whole endpoint URL (tests, demo, proxies): https://, or http:// to this machine only", PER_OP},
	{"api", "token", CT_STRING, OFF(token), NULL,
	"the wolkvox-token; $WOLKVOX_TOKEN wins over it (not over an operation's own)", PER_OP},
	{"api", "timezone", CT_STRING, OFF(timezone), "America/Bogota",
	"the IANA zone the API's dates are in", PER_OP},
	{"api", "report", CT_STRING, OFF(report), "diagram_4", "the report requested", PER_OP},
	{"api", "window", CT_DURATION, OFF(window_s), "1d",
	"window length, at most 31d (API limit)", PER_OP},
	{"api", "max_records", CT_INT, OFF(max_records), "60000",
	"the API's record cap per response: a window returning this many is split", PER_OP},
	{"api", "timeout", CT_DURATION, OFF(timeout_s), "90s",
	"a request fails when it cannot connect, or no data arrives, for this long", PER_OP},
	{"api", "retries", CT_INT, OFF(retries), "5",
	"retries of a retryable failure, with exponential backoff and jitter", PER_OP},
	{"api", "min_interval", CT_DURATION, OFF(min_interval_s), "0s",
	"least time between two requests with the same token", PER_OP},
	{"api", "backoff", CT_DURATION, OFF(backoff_s), "2s",
	"first retry delay; doubles each retry, with jitter", PER_OP},
	{"api", "maintenance_wait", CT_DURATION, OFF(maintenance_wait_s), "5m",
	"wait before retrying an unrecognised 403 (maintenance)", PER_OP},
	{"api", "max_rejects", CT_REJECTS, OFF(max_rejects), "100%",
	"rejected records a window may hold before it fails (a count, or a percent like 1%)", PER_OP},
	{"api", "ca_file", CT_STRING, OFF(ca_file), NULL,
	"CA bundle for a private CA (TLS verification is always on)", PER_OP},
	{"api", "token_file", CT_STRING, OFF(token_file), NULL,
	"a file holding the token (its first line); for one operation's own token", PER_OP},
	{"database", "conninfo", CT_STRING, OFF(conninfo), "",
	"a libpq connection string or URI; PG* variables apply as in psql", ALL_OPS},
	{"database", "schema", CT_STRING, OFF(schema), "wolkvox", "the warehouse schema", ALL_OPS},
	{"database", "lock_timeout", CT_DURATION, OFF(lock_timeout_s), "1m",
	"a statement waiting this long for a lock another session holds fails (0: no limit)", ALL_OPS},
	{"database", "citus", CT_SWITCH, OFF(citus), "off",
	"on: the warehouse is on a Citus coordinator; migrate distributes the tables", ALL_OPS},
	{"sync", "operation", CT_STRING, OFF(operation), NULL,
	"a name for this operation, stored in every row (default: the server code); "
	"with [operation NAME] sections, each NAME is one", ALL_OPS},
	{"sync", "start", CT_STRING, OFF(start), NULL, "where the first sync starts", PER_OP},
	{"sync", "lag", CT_DURATION, OFF(lag_s), "5m",
	"do not ask for the most recent part of the day", PER_OP},
	{"sync", "lookback", CT_DURATION, OFF(lookback_s), "1h",
	"re-read this much before the watermark, to catch late rows", PER_OP},
	{"sync", "parallel", CT_INT, OFF(parallel), "4",
	"operations synced at once (never two at once with the same token)", ALL_OPS},
	{"archive", "dir", CT_STRING, OFF(archive_dir), NULL,
	"when set, every raw response body is kept there, gzipped, written atomically", PER_OP},
	{"retention", "days", CT_INT, OFF(retention_days), "0",
	"wvetl prune deletes surveys, answers, rejects and archives of days older than this "
	"many (0: none; prune then needs --before)", PER_OP},
	{"privacy", "ani", CT_PRIVACY, OFF(privacy_ani), "keep",
	"the caller's number: keep, hash (keyed HMAC-SHA256) or drop, before anything is written", PER_OP},
	{"privacy", "customer_id", CT_PRIVACY, OFF(privacy_customer_id), "keep",
	"the customer id: keep, hash or drop", PER_OP},
	{"privacy", "agent_dni", CT_PRIVACY, OFF(privacy_agent_dni), "keep",
	"the agent's national id: keep, hash or drop", PER_OP},
	{"privacy", "key_file", CT_STRING, OFF(privacy_key_file), NULL,
	"file holding the HMAC key for hash (at least 16 bytes; chmod 600)", PER_OP},
	{"log", "level", CT_LEVEL, OFF(log_level), "info", "trace, debug, info, warn, error", ALL_OPS},
	{"log", "format", CT_FORMAT, OFF(log_format), "text",
	"text (human on a terminal, key=value otherwise) or json", ALL_OPS},
};

const size_t config_nkeys = sizeof(config_keys) / sizeof(config_keys[0]);

_Static_assert(sizeof(config_keys) / sizeof(config_keys[0]) <= CONFIG_MAX_KEYS,
			   "config.h: raise CONFIG_MAX_KEYS");

/*
 * The sane range of a number or a duration (in seconds): a value outside
 * is refused as a mistake (exit 2), never taken as asked: 100000d of
 * lookback or 10^20 retries can only be a typo, and would overflow the
 * time and count arithmetic. README and config.example.ini list them.
 * api.window's range is checked by config_finish, which says why.
 */
typedef struct KeyRange
{
	const char *section;
	const char *name;
	double		min;
	double		max;
	const char *shown;			/* the range as the message says it */
} KeyRange;

static const KeyRange key_ranges[] = {
	{"api", "max_records", 0, 1e9, "at most 1000000000"},
	{"api", "timeout", 0, 86400, "at most 1d"},
	{"api", "retries", 0, 100, "0 to 100"},
	{"api", "min_interval", 0, 3600, "0s to 1h"},
	{"api", "backoff", 0, 3600, "0s to 1h"},
	{"api", "maintenance_wait", 0, 86400, "0s to 1d"},
	{"database", "lock_timeout", 0, 86400, "0s to 1d"},
	{"sync", "lag", 0, 31 * 86400, "0s to 31d"},
	{"sync", "lookback", 0, 366 * 86400, "0s to 366d"},
	{"sync", "parallel", 1, 64, "1 to 64"},
	{"retention", "days", 0, 36500, "0 to 36500"},
};

/* MAX_REJECTS_COUNT: the largest count api.max_rejects takes. */
#define MAX_REJECTS_COUNT 1e9

static void format_duration(double v, char *out, size_t size);

/* config_key_index: the table index of section.name, or -1. */
int
config_key_index(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
	{
		if (strcmp(config_keys[i].section, section) == 0 &&
			strcmp(config_keys[i].name, name) == 0)
			return (int) i;
	}
	return -1;
}

/* config_section_known: true when some key of the table is in section. */
bool
config_section_known(const char *section)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0)
			return true;
	return false;
}

/*
 * config_operation_section: for a section named "operation NAME", NAME (a
 * pointer into section, blanks skipped); NULL for any other section.
 */
const char *
config_operation_section(const char *section)
{
	if (strncmp(section, "operation", 9) != 0 || (section[9] != ' ' && section[9] != '\t'))
		return NULL;
	section += 9;
	while (*section == ' ' || *section == '\t')
		section++;
	return section;
}

/* per_operation_sections: "api.*, sync.*, ..." for the sections that have
 * keys an [operation NAME] section may set, in table order, into out. */
static void
per_operation_sections(char *out, size_t size)
{
	size_t		pos = 0;

	out[0] = '\0';
	for (size_t i = 0; i < N_KEYS && pos < size; i++)
	{
		bool		seen = false;

		if (!(config_keys[i].flags & CK_PER_OPERATION))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = (config_keys[j].flags & CK_PER_OPERATION) &&
				strcmp(config_keys[j].section, config_keys[i].section) == 0;
		if (!seen)
			pos += (size_t) snprintf(out + pos, size - pos, "%s%s.*", pos > 0 ? ", " : "",
									 config_keys[i].section);
	}
}

/*
 * config_section_key_index: the table index of the key written "name" in
 * [section], or -1 with why set. In an [operation NAME] section a key is
 * written "api.timezone", "sync.start", ... or, for [api] keys, by its bare
 * name ("timezone", "token_file"); only CK_PER_OPERATION keys may be set
 * there. Elsewhere the name is the key's name in that section.
 */
int
config_section_key_index(const char *section, const char *name, char *why, size_t size)
{
	const char *dot;
	char		sec[64];
	char		secs[256];
	int			idx;

	if (config_operation_section(section) == NULL)
	{
		idx = config_key_index(section, name);
		if (idx < 0)
		{
			char		hint[160];

			config_suggest(section, name, hint, sizeof(hint));
			snprintf(why, size, "unknown key \"%s.%s\"%s (wvetl --help lists every key)",
					 section, name, hint);
		}
		return idx;
	}
	dot = strchr(name, '.');
	if (dot == NULL)
		snprintf(sec, sizeof(sec), "api");
	else
		snprintf(sec, sizeof(sec), "%.*s", (int) (dot - name), name);
	idx = config_key_index(sec, dot ? dot + 1 : name);
	if (idx < 0)
	{
		char		hint[160];

		config_suggest(sec, dot ? dot + 1 : name, hint, sizeof(hint));
		per_operation_sections(secs, sizeof(secs));
		snprintf(why, size, "unknown key \"%s\" in [%s]%s (an operation's section takes "
				 "%s keys; a bare name is an [api] key)", name, section, hint, secs);
		return -1;
	}
	if (!(config_keys[idx].flags & CK_PER_OPERATION))
	{
		if (strcmp(sec, "sync") == 0 && strcmp(config_keys[idx].name, "operation") == 0)
			snprintf(why, size, "sync.operation cannot be set in [%s]: the section's NAME is "
					 "the operation's name", section);
		else
			snprintf(why, size, "%s.%s is the same for every operation: set it in [%s], "
					 "not in [%s]", sec, config_keys[idx].name, sec, section);
		return -1;
	}
	return idx;
}

/* Levenshtein distance of a and b, for "did you mean"; both are short. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t		la = strlen(a);
	size_t		lb = strlen(b);
	size_t		row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++)
	{
		size_t		diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++)
		{
			size_t		up = row[j];
			size_t		best = diag + (a[i - 1] != b[j - 1]);

			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/*
 * config_suggest: for an unknown section.name, "; did you mean \"X\"?" when
 * a key of the table is close (the same name in another section, or at most
 * two edits away), else "". out gets at least 1 byte.
 */
void
config_suggest(const char *section, const char *name, char *out, size_t size)
{
	char		want[128];
	size_t		best = 3;
	int			found = -1;

	out[0] = '\0';
	snprintf(want, sizeof(want), "%s.%s", section, name);
	for (size_t i = 0; i < N_KEYS; i++)
	{
		char		have[128];
		size_t		d;

		snprintf(have, sizeof(have), "%s.%s", config_keys[i].section, config_keys[i].name);
		d = strcmp(config_keys[i].name, name) == 0 ? 1 : edit_distance(want, have);
		if (d < best)
		{
			best = d;
			found = (int) i;
		}
	}
	if (found >= 0)
		snprintf(out, size, "; did you mean \"%s.%s\"?", config_keys[found].section,
				 config_keys[found].name);
}

/* parse_int: a non-negative whole number; one past int64_t gives
 * INT64_MAX (strtoll saturates), which every key's range refuses. */
static bool
parse_int(const char *s, int64_t *out)
{
	char	   *end;
	long long	v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v < 0)
		return false;
	*out = errno == ERANGE ? INT64_MAX : v;
	return true;
}

/*
 * key_in_range: the value just parsed into key k's field is within its
 * sane range (key_ranges); else errbuf says the range.
 */
static bool
key_in_range(const ConfigKey *k, const char *field, const char *value, char *errbuf)
{
	double		v;

	if (k->type == CT_INT)
		v = (double) *(const int64_t *) field;
	else if (k->type == CT_DURATION)
		v = *(const double *) field;
	else
		return true;
	for (size_t i = 0; i < sizeof(key_ranges) / sizeof(key_ranges[0]); i++)
	{
		const KeyRange *r = &key_ranges[i];

		if (strcmp(r->section, k->section) != 0 || strcmp(r->name, k->name) != 0)
			continue;
		if (v >= r->min && v <= r->max)
			return true;
		etl_seterr(errbuf, "%s.%s: \"%s\" is out of range (%s)", k->section, k->name,
				   value, r->shown);
		return false;
	}
	return true;
}

static bool
parse_rejects(const char *s, RejectLimit *out)
{
	char	   *end;
	double		v = strtod(s, &end);

	if (end == s || v < 0)
		return false;
	if (*end == '%' && end[1] == '\0' && v <= 100)
	{
		out->percent = true;
		out->value = v;
		return true;
	}
	if (*end == '\0' && v <= MAX_REJECTS_COUNT && v == (double) (int64_t) v)
	{
		out->percent = false;
		out->value = v;
		return true;
	}
	return false;
}

/*
 * config_assign: parse value for key idx into cfg. The previous string, if
 * any, is freed. On a bad value, or one out of its sane range
 * (key_ranges), errbuf says what is expected and the field is unchanged.
 */
bool
config_assign(EtlConfig *cfg, int idx, const char *value, char *errbuf)
{
	const ConfigKey *k = &config_keys[idx];
	char	   *field = (char *) cfg + k->offset;
	LogLevel	level;
	double		d;
	int64_t		i;

	switch (k->type)
	{
		case CT_STRING:
		case CT_LEVEL:
		case CT_FORMAT:
			if (k->type == CT_LEVEL && !log_parse_level(value, &level))
				goto bad;
			if (k->type == CT_FORMAT && strcmp(value, "text") != 0 &&
				strcmp(value, "json") != 0)
				goto bad;
			free(*(char **) field);
			*(char **) field = strdup(value);
			return true;
		case CT_DURATION:
			if (!wvtime_parse_duration(value, &d))
				goto bad;
			if (!key_in_range(k, (const char *) &d, value, errbuf))
				return false;
			*(double *) field = d;
			return true;
		case CT_INT:
			if (!parse_int(value, &i))
				goto bad;
			if (!key_in_range(k, (const char *) &i, value, errbuf))
				return false;
			*(int64_t *) field = i;
			return true;
		case CT_REJECTS:
			if (!parse_rejects(value, (RejectLimit *) field))
				goto bad;
			return true;
		case CT_SWITCH:
			if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
				goto bad;
			*(bool *) field = strcmp(value, "on") == 0;
			return true;
		case CT_PRIVACY:
			if (strcmp(value, "keep") == 0)
				*(PrivacyMode *) field = PRIVACY_KEEP;
			else if (strcmp(value, "hash") == 0)
				*(PrivacyMode *) field = PRIVACY_HASH;
			else if (strcmp(value, "drop") == 0)
				*(PrivacyMode *) field = PRIVACY_DROP;
			else
				goto bad;
			return true;
	}
bad:
	{
		static const char *const expect[] = {
			"text", "a duration like 90s, 5m, 1h or 1d",
			"a non-negative whole number", "a count like 10 or a percent like 1%",
			"one of trace, debug, info, warn, error", "text or json", "off or on",
			"keep, hash or drop"
		};

		etl_seterr(errbuf, "%s.%s: invalid value \"%s\" (expected %s)",
				   k->section, k->name, value, expect[k->type]);
	}
	return false;
}

void
config_init(EtlConfig *cfg)
{
	char		errbuf[ETL_ERRLEN];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < N_KEYS; i++)
	{
		if (config_keys[i].def != NULL)
			(void) config_assign(cfg, (int) i, config_keys[i].def, errbuf);
		cfg->source[i] = CONF_DEFAULT;
	}
}

/*
 * format_duration: v seconds in the largest unit that keeps it whole (1d,
 * 5m, 90s), so `wvetl config` shows what one would write in the file.
 */
static void
format_duration(double v, char *out, size_t size)
{
	static const struct
	{
		double		seconds;
		char		unit;
	}			units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
	{
		double		n = v / units[i].seconds;

		if (v >= units[i].seconds && n == (double) (int64_t) n)
		{
			snprintf(out, size, "%lld%c", (long long) n, units[i].unit);
			return;
		}
	}
	snprintf(out, size, "%gs", v);
}

void
config_format_value(const EtlConfig *cfg, const ConfigKey *k, char *out, size_t size)
{
	const char *field = (const char *) cfg + k->offset;

	switch (k->type)
	{
		case CT_STRING:
		case CT_LEVEL:
		case CT_FORMAT:
			{
				const char *s = *(char *const *) field;

				if (s == NULL)
					snprintf(out, size, "(unset)");
				else if (*s == '\0')
					snprintf(out, size, "\"\"");
				else if (strcmp(k->name, "token") == 0)
					snprintf(out, size, "*** (%zu characters)", strlen(s));
				else if (strcmp(k->name, "conninfo") == 0)
					config_mask_conninfo(s, out, size);
				else
					snprintf(out, size, "%s", s);
				break;
			}
		case CT_DURATION:
			format_duration(*(const double *) field, out, size);
			break;
		case CT_INT:
			snprintf(out, size, "%lld", (long long) *(const int64_t *) field);
			break;
		case CT_REJECTS:
			{
				const RejectLimit *r = (const RejectLimit *) field;

				snprintf(out, size, r->percent ? "%g%%" : "%g", r->value);
				break;
			}
		case CT_SWITCH:
			snprintf(out, size, "%s", *(const bool *) field ? "on" : "off");
			break;
		case CT_PRIVACY:
			snprintf(out, size, "%s", config_privacy_name(*(const PrivacyMode *) field));
			break;
	}
}

void
config_print_help(FILE *out, const char *only)
{
	for (size_t i = 0; i < N_KEYS; i++)
	{
		char		name[64];
		const char *def = config_keys[i].def;

		snprintf(name, sizeof(name), "%s.%s", config_keys[i].section, config_keys[i].name);
		if (only != NULL && strcmp(only, name) != 0)
			continue;
		fprintf(out, "  %-22s %-14s %s\n", name, def ? (*def ? def : "\"\"") : "-",
				config_keys[i].help);
	}
}

/* config_copy_value: key idx's value from src into dst (a string copied,
 * dst's previous one freed), with its source and line. */
void
config_copy_value(EtlConfig *dst, const EtlConfig *src, int idx)
{
	const ConfigKey *k = &config_keys[idx];
	char	   *to = (char *) dst + k->offset;
	const char *from = (const char *) src + k->offset;

	switch (k->type)
	{
		case CT_STRING:
		case CT_LEVEL:
		case CT_FORMAT:
			{
				const char *v = *(char *const *) from;

				free(*(char **) to);
				*(char **) to = v != NULL ? strdup(v) : NULL;
				break;
			}
		case CT_DURATION:
			memcpy(to, from, sizeof(double));
			break;
		case CT_INT:
			memcpy(to, from, sizeof(int64_t));
			break;
		case CT_REJECTS:
			memcpy(to, from, sizeof(RejectLimit));
			break;
		case CT_SWITCH:
			memcpy(to, from, sizeof(bool));
			break;
		case CT_PRIVACY:
			memcpy(to, from, sizeof(PrivacyMode));
			break;
	}
	dst->source[idx] = src->source[idx];
	dst->line[idx] = src->line[idx];
}

/* config_free: every string of cfg, and its operations'. */
void
config_free(EtlConfig *cfg)
{
	for (size_t i = 0; i < N_KEYS; i++)
	{
		ConfigType	t = config_keys[i].type;

		if (t == CT_STRING || t == CT_LEVEL || t == CT_FORMAT)
		{
			char	  **f = (char **) ((char *) cfg + config_keys[i].offset);

			free(*f);
			*f = NULL;
		}
	}
	for (int i = 0; i < cfg->nops; i++)
		config_free(&cfg->ops[i]);
	free(cfg->ops);
	free(cfg->path);
	g_free(cfg->endpoint);
	free(cfg->insecure_token_file);
	cfg->ops = NULL;
	cfg->nops = 0;
	if (cfg->privacy_key != NULL)
		explicit_bzero(cfg->privacy_key, cfg->privacy_key_len);
	free(cfg->privacy_key);
	cfg->privacy_key = NULL;
	cfg->path = NULL;
	cfg->endpoint = NULL;
	cfg->insecure_token_file = NULL;
}
