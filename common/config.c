/*
 * common/config.c
 *   The configuration's sources after the file (environment, --set), the
 *   cross-key checks and derived values, and `wvetl config`'s listing with
 *   secrets masked. The key table is config_keys.c; the INI file is read
 *   by config_file.c.
 *
 *   Pure: fills an errbuf, never logs.
 */
#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config_int.h"

/* NAMEDATALEN - 1: PostgreSQL cuts longer identifiers, with a notice. */
#define PG_NAME_MAX 63

static const char *config_where(const EtlConfig *cfg, const char *section,
								const char *name, char *out, size_t size);
static bool conninfo_password_span(const char *s, size_t *start, size_t *len);

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
	if (cfg->schema != NULL && strlen(cfg->schema) > PG_NAME_MAX)
	{
		etl_seterr(errbuf, "%sdatabase.schema is %zu bytes long: PostgreSQL names have at most %d "
				   "(a longer one would be cut to another name)",
				   config_where(cfg, "database", "schema", where, sizeof(where)),
				   strlen(cfg->schema), PG_NAME_MAX);
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
