/*
 * common/config.c
 *   The configuration table and its sources. Each key is declared once in
 *   config_keys[] with its type, default and help; one setter parses values
 *   from every source (built-in default, INI file, environment, --set).
 *
 *   The INI file is read with GLib's GKeyFile (no line-length limit, ';'
 *   inside a value kept, no escapes in get_value). Before handing the text
 *   to GKeyFile we scan it once, in line order: to know each key's line (for
 *   "file:line: message" errors), to refuse unknown sections and keys there
 *   (with a "did you mean" from the table), and to accept ';' comment
 *   lines, which GKeyFile does not.
 *
 *   Pure: fills an errbuf, never logs.
 */
#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/wvtime.h"

typedef enum ConfigType
{
	CT_STRING = 0,
	CT_DURATION,
	CT_INT,
	CT_REJECTS,
	CT_LEVEL,
	CT_FORMAT
} ConfigType;

typedef struct ConfigKey
{
	const char *section;
	const char *name;
	ConfigType	type;
	size_t		offset;
	const char *def;			/* NULL: no default */
	const char *help;
} ConfigKey;

#define OFF(f) offsetof(EtlConfig, f)

static const ConfigKey config_keys[] = {
	{"api", "server", CT_STRING, OFF(server), NULL,
	"the operation's server code: requests go to https://wv{server}.wolkvox.com/api/v2/reports_manager.php"},
	{"api", "base_url", CT_STRING, OFF(base_url), NULL,
	"overrides the whole endpoint URL (tests, demo, proxies)"},
	{"api", "token", CT_STRING, OFF(token), NULL,
	"the wolkvox-token; $WOLKVOX_TOKEN wins over it"},
	{"api", "timezone", CT_STRING, OFF(timezone), "America/Bogota",
	"the IANA zone the API's dates are in"},
	{"api", "report", CT_STRING, OFF(report), "diagram_4", "the report requested"},
	{"api", "window", CT_DURATION, OFF(window_s), "1d",
	"window length, at most 31d (API limit)"},
	{"api", "max_records", CT_INT, OFF(max_records), "60000",
	"the API's record cap per response: a window returning this many is split"},
	{"api", "timeout", CT_DURATION, OFF(timeout_s), "90s",
	"a request fails when it cannot connect, or no data arrives, for this long"},
	{"api", "retries", CT_INT, OFF(retries), "5",
	"retries of a retryable failure, with exponential backoff and jitter"},
	{"api", "min_interval", CT_DURATION, OFF(min_interval_s), "0s",
	"least time between two requests with the same token"},
	{"api", "backoff", CT_DURATION, OFF(backoff_s), "2s",
	"first retry delay; doubles each retry, with jitter"},
	{"api", "maintenance_wait", CT_DURATION, OFF(maintenance_wait_s), "5m",
	"wait before retrying an unrecognised 403 (maintenance)"},
	{"api", "max_rejects", CT_REJECTS, OFF(max_rejects), "100%",
	"rejected records a window may hold before it fails (a count, or a percent like 1%)"},
	{"api", "ca_file", CT_STRING, OFF(ca_file), NULL,
	"CA bundle for a private CA (TLS verification is always on)"},
	{"database", "conninfo", CT_STRING, OFF(conninfo), "",
	"a libpq connection string or URI; PG* variables apply as in psql"},
	{"database", "schema", CT_STRING, OFF(schema), "wolkvox", "the warehouse schema"},
	{"sync", "operation", CT_STRING, OFF(operation), NULL,
	"a name for this operation, stored in every row (default: the server code)"},
	{"sync", "start", CT_STRING, OFF(start), NULL, "where the first sync starts"},
	{"sync", "lag", CT_DURATION, OFF(lag_s), "5m",
	"do not ask for the most recent part of the day"},
	{"sync", "lookback", CT_DURATION, OFF(lookback_s), "1h",
	"re-read this much before the watermark, to catch late rows"},
	{"archive", "dir", CT_STRING, OFF(archive_dir), NULL,
	"when set, every raw response body is kept there, gzipped, written atomically"},
	{"log", "level", CT_LEVEL, OFF(log_level), "info", "trace, debug, info, warn, error"},
	{"log", "format", CT_FORMAT, OFF(log_format), "text",
	"text (human on a terminal, key=value otherwise) or json"},
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static int	config_key_index(const char *section, const char *name);
static bool config_assign(EtlConfig *cfg, int idx, const char *value, char *errbuf);
static bool config_scan(const char *path, char *text, GHashTable *lines, char *errbuf);
static bool config_section_known(const char *section);
static void config_suggest(const char *section, const char *name, char *out, size_t size);
static const char *config_where(const EtlConfig *cfg, const char *section,
								const char *name, char *out, size_t size);
static bool conninfo_password_span(const char *s, size_t *start, size_t *len);
static void format_duration(double v, char *out, size_t size);

/* config_key_index: the table index of section.name, or -1. */
static int
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
static bool
config_section_known(const char *section)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0)
			return true;
	return false;
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
static void
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

static bool
parse_int(const char *s, int64_t *out)
{
	char	   *end;
	long long	v;

	if (*s == '\0')
		return false;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v < 0)
		return false;
	*out = v;
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
	if (*end == '\0' && v == (double) (int64_t) v)
	{
		out->percent = false;
		out->value = v;
		return true;
	}
	return false;
}

/*
 * config_assign: parse value for key idx into cfg. The previous string, if
 * any, is freed. On a bad value, errbuf says what is expected.
 */
static bool
config_assign(EtlConfig *cfg, int idx, const char *value, char *errbuf)
{
	const ConfigKey *k = &config_keys[idx];
	char	   *field = (char *) cfg + k->offset;
	LogLevel	level;

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
			if (!wvtime_parse_duration(value, (double *) field))
				goto bad;
			return true;
		case CT_INT:
			if (!parse_int(value, (int64_t *) field))
				goto bad;
			return true;
		case CT_REJECTS:
			if (!parse_rejects(value, (RejectLimit *) field))
				goto bad;
			return true;
	}
bad:
	{
		static const char *const expect[] = {
			"text", "a duration like 90s, 5m, 1h or 1d",
			"a non-negative whole number", "a count like 10 or a percent like 1%",
			"one of trace, debug, info, warn, error", "text or json"
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

/* Trim trailing blanks and a trailing CR of an INI value, in place. */
static void
trim_right(char *s)
{
	size_t		n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/*
 * config_scan: check every line of text is blank, a comment, a [section] or
 * key = value, turn ';' comment lines into '#' ones (GKeyFile knows only
 * '#'), and remember each key's line number in lines ("section\nkey" ->
 * line). Returns false with "path:line: message" for the first bad line.
 */
static bool
config_scan(const char *path, char *text, GHashTable *lines, char *errbuf)
{
	char	   *section = NULL;
	int			lineno = 0;
	char	   *p = text;

	while (*p != '\0')
	{
		char	   *eol = strchr(p, '\n');
		char	   *s = p;
		size_t		len = eol ? (size_t) (eol - p) : strlen(p);

		lineno++;
		while (s < p + len && (*s == ' ' || *s == '\t'))
			s++;
		if (s == p + len || *s == '#' || *s == '\r')
			;					/* blank or comment */
		else if (*s == ';')
			*s = '#';
		else if (*s == '[')
		{
			char	   *close = memchr(s, ']', len - (size_t) (s - p));

			if (close == NULL)
			{
				etl_seterr(errbuf, "%s:%d: section header without ']'", path, lineno);
				g_free(section);
				return false;
			}
			for (char *t = close + 1; t < p + len; t++)
			{
				if (*t != ' ' && *t != '\t' && *t != '\r')
				{
					etl_seterr(errbuf, "%s:%d: text after the section header's ']'",
							   path, lineno);
					g_free(section);
					return false;
				}
			}
			g_free(section);
			section = g_strndup(s + 1, (size_t) (close - s - 1));
			g_strstrip(section);
			if (!config_section_known(section))
			{
				etl_seterr(errbuf, "%s:%d: unknown section [%s] (known: [api], [database], "
						   "[sync], [archive], [log])", path, lineno, section);
				g_free(section);
				return false;
			}
		}
		else
		{
			char	   *eq = memchr(s, '=', len - (size_t) (s - p));
			char	   *key;

			if (eq == NULL)
			{
				etl_seterr(errbuf, "%s:%d: expected \"key = value\", \"[section]\" or a comment",
						   path, lineno);
				g_free(section);
				return false;
			}
			if (eq == s)
			{
				etl_seterr(errbuf, "%s:%d: a key name is missing before '='", path, lineno);
				g_free(section);
				return false;
			}
			if (section == NULL)
			{
				etl_seterr(errbuf, "%s:%d: key outside of any [section]", path, lineno);
				return false;
			}
			key = g_strndup(s, (size_t) (eq - s));
			g_strstrip(key);
			if (config_key_index(section, key) < 0)
			{
				char		hint[160];

				config_suggest(section, key, hint, sizeof(hint));
				etl_seterr(errbuf, "%s:%d: unknown key \"%s.%s\"%s (wvetl --help lists every key)",
						   path, lineno, section, key, hint);
				g_free(key);
				g_free(section);
				return false;
			}
			g_hash_table_replace(lines, g_strdup_printf("%s\n%s", section, key),
								 GINT_TO_POINTER(lineno));
			g_free(key);
		}
		p = eol ? eol + 1 : p + len;
	}
	g_free(section);
	return true;
}

/*
 * config_load_file: read path into cfg. Unknown sections or keys and bad
 * values are errors ("path:line: ..."). A missing file is an error unless
 * missing_ok.
 */
bool
config_load_file(EtlConfig *cfg, const char *path, bool missing_ok, char *errbuf)
{
	GKeyFile   *kf = NULL;
	GHashTable *lines = NULL;
	GError	   *gerr = NULL;
	gchar	   *text = NULL;
	gsize		textlen = 0;
	gchar	  **groups = NULL;
	struct stat st;
	bool		ok = false;

	if (stat(path, &st) != 0 && missing_ok)
		return true;
	if (!g_file_get_contents(path, &text, &textlen, &gerr))
	{
		etl_seterr(errbuf, "%s: %s", path, gerr->message);
		goto cleanup;
	}
	if (memchr(text, '\0', textlen) != NULL)
	{
		etl_seterr(errbuf, "%s: the file holds a NUL byte; not a text file", path);
		goto cleanup;
	}
	/* A UTF-8 byte order mark (some Windows editors write one) is not text. */
	if (textlen >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
	{
		memmove(text, text + 3, textlen - 2);	/* with the NUL */
		textlen -= 3;
	}
	lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (!config_scan(path, text, lines, errbuf))
		goto cleanup;

	kf = g_key_file_new();
	if (!g_key_file_load_from_data(kf, text, textlen, G_KEY_FILE_NONE, &gerr))
	{
		etl_seterr(errbuf, "%s: %s", path, gerr->message);
		goto cleanup;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (gchar **g = groups; *g != NULL; g++)
	{
		gchar	  **keys = g_key_file_get_keys(kf, *g, NULL, NULL);

		for (gchar **k = keys; k != NULL && *k != NULL; k++)
		{
			gchar	   *lk = g_strdup_printf("%s\n%s", *g, *k);
			int			line = GPOINTER_TO_INT(g_hash_table_lookup(lines, lk));
			int			idx = config_key_index(*g, *k);
			gchar	   *value;
			char		why[ETL_ERRLEN];

			g_free(lk);
			if (idx < 0)
			{
				char		hint[160];

				config_suggest(*g, *k, hint, sizeof(hint));
				etl_seterr(errbuf, "%s:%d: unknown key \"%s.%s\"%s (wvetl --help lists every key)",
						   path, line, *g, *k, hint);
				g_strfreev(keys);
				goto cleanup;
			}
			value = g_key_file_get_value(kf, *g, *k, NULL);
			trim_right(value);
			if (!config_assign(cfg, idx, value, why))
			{
				etl_seterr(errbuf, "%s:%d: %s", path, line, why);
				g_free(value);
				g_strfreev(keys);
				goto cleanup;
			}
			g_free(value);
			cfg->source[idx] = CONF_FILE;
			cfg->line[idx] = line;
		}
		g_strfreev(keys);
	}
	free(cfg->path);
	cfg->path = strdup(path);
	/* The file holds the token when the token came from it (it may still be
	 * overridden later by $WOLKVOX_TOKEN or --set: the file holds it all the
	 * same). */
	cfg->insecure_file = cfg->token != NULL && (st.st_mode & (S_IRGRP | S_IROTH)) != 0 &&
		cfg->source[config_key_index("api", "token")] == CONF_FILE;
	ok = true;

cleanup:
	if (gerr != NULL)
		g_error_free(gerr);
	g_strfreev(groups);
	if (kf != NULL)
		g_key_file_free(kf);
	if (lines != NULL)
		g_hash_table_destroy(lines);
	g_free(text);
	return ok;
}

bool
config_apply_env(EtlConfig *cfg, char *errbuf)
{
	const char *token = getenv("WOLKVOX_TOKEN");

	if (token != NULL && *token != '\0')
	{
		int			idx = config_key_index("api", "token");

		if (!config_assign(cfg, idx, token, errbuf))
			return false;
		cfg->source[idx] = CONF_ENV;
	}
	return true;
}

bool
config_set(EtlConfig *cfg, const char *assignment, char *errbuf)
{
	const char *dot = strchr(assignment, '.');
	const char *eq = strchr(assignment, '=');
	char		section[64];
	char		name[64];
	char		why[ETL_ERRLEN];
	int			idx;

	if (dot == NULL || eq == NULL || dot > eq ||
		(size_t) (dot - assignment) >= sizeof(section) ||
		(size_t) (eq - dot - 1) >= sizeof(name))
	{
		etl_seterr(errbuf, "--set %s: expected SECTION.KEY=VALUE", assignment);
		return false;
	}
	memcpy(section, assignment, (size_t) (dot - assignment));
	section[dot - assignment] = '\0';
	memcpy(name, dot + 1, (size_t) (eq - dot - 1));
	name[eq - dot - 1] = '\0';
	idx = config_key_index(section, name);
	if (idx < 0)
	{
		char		hint[160];

		config_suggest(section, name, hint, sizeof(hint));
		etl_seterr(errbuf, "--set: unknown key \"%s.%s\"%s (wvetl --help lists every key)",
				   section, name, hint);
		return false;
	}
	if (!config_assign(cfg, idx, eq + 1, why))
	{
		etl_seterr(errbuf, "--set: %s", why);
		return false;
	}
	cfg->source[idx] = CONF_SET;
	return true;
}

static bool
valid_identifier(const char *s)
{
	if (s == NULL || !(isalpha((unsigned char) *s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char) *s) || *s == '_'))
			return false;
	return true;
}

/* config_where: "FILE:LINE: " or "--set: " for the key section.name, to
 * prefix a message about its value; "" for a default. */
static const char *
config_where(const EtlConfig *cfg, const char *section, const char *name,
			 char *out, size_t size)
{
	int			idx = config_key_index(section, name);

	out[0] = '\0';
	if (cfg->source[idx] == CONF_FILE)
		snprintf(out, size, "%s:%d: ", cfg->path, cfg->line[idx]);
	else if (cfg->source[idx] == CONF_SET)
		snprintf(out, size, "--set: ");
	else if (cfg->source[idx] == CONF_ENV)
		snprintf(out, size, "environment: ");
	return out;
}

bool
config_finish(EtlConfig *cfg, char *errbuf)
{
	char		where[ETL_ERRLEN];

	if (cfg->window_s < 1 || cfg->window_s > 31 * 86400)
	{
		etl_seterr(errbuf, "%sapi.window must be between 1s and 31d (the API's limit)",
				   config_where(cfg, "api", "window", where, sizeof(where)));
		return false;
	}
	if (cfg->max_records < 1)
	{
		etl_seterr(errbuf, "%sapi.max_records must be at least 1",
				   config_where(cfg, "api", "max_records", where, sizeof(where)));
		return false;
	}
	if (cfg->timeout_s < 1)
	{
		etl_seterr(errbuf, "%sapi.timeout must be at least 1s",
				   config_where(cfg, "api", "timeout", where, sizeof(where)));
		return false;
	}
	if (cfg->ca_file != NULL && cfg->ca_file[0] != '\0' && access(cfg->ca_file, R_OK) != 0)
	{
		etl_seterr(errbuf, "%sapi.ca_file %s cannot be read: %s",
				   config_where(cfg, "api", "ca_file", where, sizeof(where)),
				   cfg->ca_file, strerror(errno));
		return false;
	}
	if (!valid_identifier(cfg->schema))
	{
		etl_seterr(errbuf, "%sdatabase.schema \"%s\" must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*)",
				   config_where(cfg, "database", "schema", where, sizeof(where)),
				   cfg->schema ? cfg->schema : "");
		return false;
	}
	if (cfg->operation == NULL || *cfg->operation == '\0')
	{
		free(cfg->operation);
		cfg->operation = strdup(cfg->server && *cfg->server ? cfg->server : "default");
	}
	g_free(cfg->endpoint);
	cfg->endpoint = NULL;
	if (cfg->base_url != NULL && *cfg->base_url != '\0')
		cfg->endpoint = g_strdup(cfg->base_url);
	else if (cfg->server != NULL && *cfg->server != '\0')
		cfg->endpoint = g_strdup_printf("https://wv%s.wolkvox.com/api/v2/reports_manager.php",
										cfg->server);
	return true;
}

const char *
config_endpoint(const EtlConfig *cfg)
{
	return cfg->endpoint;
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

/*
 * conninfo_password_span: where the password is in a libpq connection
 * string: the value of a "password" keyword (key = value form, quoted or
 * not), or the part after ':' of a URI's user info, or a URI's
 * "password=" query parameter. False when there is none.
 */
static bool
conninfo_password_span(const char *s, size_t *start, size_t *len)
{
	const char *p;

	if (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0)
	{
		const char *auth = strstr(s, "://") + 3;
		size_t		hostlen = strcspn(auth, "/?");
		const char *at = memchr(auth, '@', hostlen);
		const char *colon = at ? memchr(auth, ':', (size_t) (at - auth)) : NULL;

		if (colon != NULL)
		{
			*start = (size_t) (colon + 1 - s);
			*len = (size_t) (at - colon - 1);
			return true;
		}
		for (p = strchr(auth, '?'); p != NULL; p = strchr(p + 1, '&'))
		{
			if (strncmp(p + 1, "password=", 9) == 0)
			{
				*start = (size_t) (p + 10 - s);
				*len = strcspn(p + 10, "&");
				return true;
			}
		}
		return false;
	}
	for (p = s; *p != '\0';)
	{
		const char *key;
		size_t		keylen;

		while (isspace((unsigned char) *p))
			p++;
		key = p;
		while (*p != '\0' && *p != '=' && !isspace((unsigned char) *p))
			p++;
		keylen = (size_t) (p - key);
		while (isspace((unsigned char) *p))
			p++;
		if (*p != '=')
			return false;		/* not key = value: libpq will say why */
		for (p++; isspace((unsigned char) *p); p++)
			;
		if (*p == '\'')
		{
			const char *v = ++p;

			while (*p != '\0' && *p != '\'')
				p += (*p == '\\' && p[1] != '\0') ? 2 : 1;
			if (keylen == 8 && strncmp(key, "password", 8) == 0)
			{
				*start = (size_t) (v - s);
				*len = (size_t) (p - v);
				return true;
			}
			if (*p == '\'')
				p++;
		}
		else
		{
			const char *v = p;

			while (*p != '\0' && !isspace((unsigned char) *p))
				p++;
			if (keylen == 8 && strncmp(key, "password", 8) == 0)
			{
				*start = (size_t) (v - s);
				*len = (size_t) (p - v);
				return true;
			}
		}
	}
	return false;
}

void
config_mask_conninfo(const char *conninfo, char *out, size_t size)
{
	size_t		start;
	size_t		len;

	if (conninfo_password_span(conninfo, &start, &len) && len > 0)
		snprintf(out, size, "%.*s***%s", (int) start, conninfo, conninfo + start + len);
	else
		snprintf(out, size, "%s", conninfo);
}

char *
config_conninfo_password(const char *conninfo)
{
	size_t		start;
	size_t		len;

	if (conninfo == NULL || !conninfo_password_span(conninfo, &start, &len) || len == 0)
		return NULL;
	return strndup(conninfo + start, len);
}

static void
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
	}
}

/*
 * config_print: every key as "section.key = value  # source", the source
 * being "default", "FILE:LINE", "environment (WOLKVOX_TOKEN)" or "--set";
 * the token and any password in the connection string masked. Then the
 * PG* variables libpq will read (PGPASSWORD masked), since they decide
 * where the warehouse is as much as database.conninfo does.
 */
void
config_print(const EtlConfig *cfg, FILE *out)
{
	int			npg = 0;

	if (cfg->path != NULL)
		fprintf(out, "# configuration file: %s\n", cfg->path);
	else
		fprintf(out, "# no configuration file was read (-c FILE, $WVETL_CONFIG or ./wvetl.ini)\n");
	for (size_t i = 0; i < N_KEYS; i++)
	{
		char		name[64];
		char		value[2048];

		snprintf(name, sizeof(name), "%s.%s", config_keys[i].section, config_keys[i].name);
		config_format_value(cfg, &config_keys[i], value, sizeof(value));
		switch (cfg->source[i])
		{
			case CONF_FILE:
				fprintf(out, "%-22s = %-30s # %s:%d\n", name, value, cfg->path, cfg->line[i]);
				break;
			case CONF_ENV:
				fprintf(out, "%-22s = %-30s # environment (WOLKVOX_TOKEN)\n", name, value);
				break;
			case CONF_SET:
				fprintf(out, "%-22s = %-30s # --set\n", name, value);
				break;
			case CONF_DEFAULT:
				fprintf(out, "%-22s = %-30s # default\n", name, value);
				break;
		}
	}
	for (char **e = environ; e != NULL && *e != NULL; e++)
	{
		if (strncmp(*e, "PG", 2) != 0 || strchr(*e, '=') == NULL)
			continue;
		if (npg++ == 0)
			fprintf(out, "# libpq also reads these environment variables, as psql does:\n");
		if (strncmp(*e, "PGPASSWORD=", 11) == 0)
			fprintf(out, "#   PGPASSWORD=***\n");
		else
			fprintf(out, "#   %s\n", *e);
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
	free(cfg->path);
	g_free(cfg->endpoint);
	cfg->path = NULL;
	cfg->endpoint = NULL;
}
