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
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config_int.h"

/* NAMEDATALEN - 1: PostgreSQL cuts longer identifiers, with a notice. */
#define PG_NAME_MAX 63
/* Wolkvox server codes are four digits (0010); room for whatever comes. */
#define SERVER_CODE_MAX 16

static const char *config_where(const EtlConfig *cfg, const char *section,
								const char *name, char *out, size_t size);
static bool privacy_key_load(EtlConfig *cfg, char *errbuf);
static bool config_check_endpoint(const EtlConfig *cfg, char *errbuf);
static bool config_check_conninfo(const EtlConfig *cfg, char *errbuf);

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
	/* over every operation's own value too (the others it inherits) */
	for (int i = 0; i < cfg->nops && (config_keys[idx].flags & CK_PER_OPERATION); i++)
	{
		if (!config_assign(&cfg->ops[i], idx, eq + 1, why))
			return false;		/* cannot be: the same value passed above */
		cfg->ops[i].source[idx] = CONF_SET;
	}
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
	if (cfg->source[idx] == CONF_FILE || cfg->source[idx] == CONF_SECTION)
		snprintf(out, size, "%s:%d: ", cfg->path, cfg->line[idx]);
	else if (cfg->source[idx] == CONF_SET)
		snprintf(out, size, "--set: ");
	else if (cfg->source[idx] == CONF_ENV)
		snprintf(out, size, "environment: ");
	return out;
}

/* source_rank: the precedence of a value's source, for an operation:
 * default < file's top level < environment < its own section < --set. */
static int
source_rank(ConfigSource s)
{
	switch (s)
	{
		case CONF_DEFAULT:
			return 0;
		case CONF_FILE:
			return 1;
		case CONF_ENV:
			return 2;
		case CONF_SECTION:
			return 3;
		case CONF_SET:
			return 4;
	}
	return 0;
}

/*
 * read_token_file: the token in path: its first line, trailing blanks and
 * line end removed. Refuses an empty file, a second non-blank line, a NUL
 * byte or a file over 4 KiB, without quoting a byte of it. *readable_by_others
 * tells whether group or others may read it. The caller frees *token.
 */
static bool
read_token_file(const char *path, char **token, bool *readable_by_others, char *why)
{
	gchar	   *text = NULL;
	gsize		len = 0;
	GError	   *gerr = NULL;
	struct stat st;
	size_t		n;

	if (stat(path, &st) != 0)
	{
		etl_seterr(why, "cannot be read: %s", strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > 4096)
	{
		etl_seterr(why, "is not a token file (a regular file of at most 4 KiB)");
		return false;
	}
	if (!g_file_get_contents(path, &text, &len, &gerr))
	{
		etl_seterr(why, "cannot be read: %s", gerr->message);
		g_error_free(gerr);
		return false;
	}
	n = strcspn(text, "\r\n");
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (memchr(text, '\0', len) != NULL || n == 0 ||
		text[strspn(text + strcspn(text, "\r\n"), " \t\r\n") + strcspn(text, "\r\n")] != '\0')
	{
		etl_seterr(why, "must hold the token alone, on its first line");
		g_free(text);
		return false;
	}
	*token = strndup(text, n);
	*readable_by_others = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
	g_free(text);
	return *token != NULL;
}

/*
 * resolve_token: when api.token_file is set closer than api.token (see
 * source_rank), api.token becomes the file's token, with the file's source
 * and line; set at the same place as api.token it is an error. A token
 * file group or others can read is remembered for a warning.
 */
static bool
resolve_token(EtlConfig *cfg, char *errbuf)
{
	int			tk = config_key_index("api", "token");
	int			tf = config_key_index("api", "token_file");
	char		where[ETL_ERRLEN];
	char		why[ETL_ERRLEN];
	char	   *token = NULL;
	bool		insecure = false;

	if (cfg->token_file == NULL || cfg->token_file[0] == '\0')
		return true;
	if (cfg->token != NULL && cfg->token[0] != '\0')
	{
		if (source_rank(cfg->source[tk]) > source_rank(cfg->source[tf]))
			return true;		/* the token given closer wins */
		if (source_rank(cfg->source[tk]) == source_rank(cfg->source[tf]))
		{
			etl_seterr(errbuf, "%sapi.token and api.token_file are both set there: keep one",
					   config_where(cfg, "api", "token_file", where, sizeof(where)));
			return false;
		}
	}
	if (!read_token_file(cfg->token_file, &token, &insecure, why))
	{
		etl_seterr(errbuf, "%sapi.token_file %s %s",
				   config_where(cfg, "api", "token_file", where, sizeof(where)),
				   cfg->token_file, why);
		return false;
	}
	free(cfg->token);
	cfg->token = token;
	cfg->source[tk] = cfg->source[tf];
	cfg->line[tk] = cfg->line[tf];
	if (insecure && cfg->insecure_token_file == NULL)
		cfg->insecure_token_file = strdup(cfg->token_file);
	return true;
}

const char *
config_privacy_name(PrivacyMode m)
{
	return m == PRIVACY_HASH ? "hash" : m == PRIVACY_DROP ? "drop" : "keep";
}

/*
 * privacy_key_load: when a privacy.* key is hash, read privacy.key_file
 * into cfg->privacy_key (one trailing newline removed). False, with errbuf
 * set, when it is not set, cannot be read, or holds fewer than
 * PRIVACY_KEY_MIN bytes. Sets key_insecure when group or others can read
 * it. The key's bytes never reach errbuf.
 */
static bool
privacy_key_load(EtlConfig *cfg, char *errbuf)
{
	char		where[ETL_ERRLEN];
	gchar	   *data = NULL;
	gsize		len = 0;
	GError	   *err = NULL;
	struct stat st;

	if (cfg->privacy_ani != PRIVACY_HASH && cfg->privacy_customer_id != PRIVACY_HASH &&
		cfg->privacy_agent_dni != PRIVACY_HASH)
		return true;
	if (cfg->privacy_key_file == NULL || cfg->privacy_key_file[0] == '\0')
	{
		etl_seterr(errbuf, "privacy: hash needs privacy.key_file, a file holding the secret key "
				   "(e.g. head -c 32 /dev/urandom > /etc/wvetl/privacy.key; chmod 600 it)");
		return false;
	}
	config_where(cfg, "privacy", "key_file", where, sizeof(where));
	if (!g_file_get_contents(cfg->privacy_key_file, &data, &len, &err))
	{
		etl_seterr(errbuf, "%sprivacy.key_file %s cannot be read: %s", where,
				   cfg->privacy_key_file, err->message);
		g_error_free(err);
		return false;
	}
	if (len > 0 && data[len - 1] == '\n')
		len--;
	if (len > 0 && data[len - 1] == '\r')
		len--;
	if (len < PRIVACY_KEY_MIN)
	{
		etl_seterr(errbuf, "%sprivacy.key_file %s holds %zu bytes; the key must have at least %d",
				   where, cfg->privacy_key_file, (size_t) len, PRIVACY_KEY_MIN);
		explicit_bzero(data, len);
		g_free(data);
		return false;
	}
	free(cfg->privacy_key);
	cfg->privacy_key = malloc(len);
	if (cfg->privacy_key != NULL)
		memcpy(cfg->privacy_key, data, len);
	cfg->privacy_key_len = cfg->privacy_key ? len : 0;
	explicit_bzero(data, len);
	g_free(data);
	if (cfg->privacy_key == NULL)
	{
		etl_seterr(errbuf, "out of memory");
		return false;
	}
	cfg->key_insecure = stat(cfg->privacy_key_file, &st) == 0 &&
		(st.st_mode & (S_IRGRP | S_IROTH)) != 0;
	return true;
}

/*
 * host_is_loopback: "localhost", 127.0.0.0/8 or ::1 (as GUri gives an
 * IPv6 host: without brackets). curl resolves "localhost" to the loopback
 * interface itself, never through DNS.
 */
static bool
host_is_loopback(const char *host)
{
	unsigned	a;
	unsigned	b;
	unsigned	c;
	unsigned	d;
	char		end;

	if (host == NULL)
		return false;
	if (g_ascii_strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
		return true;
	return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) == 4 && a == 127 &&
		b < 256 && c < 256 && d < 256;
}

/*
 * config_check_endpoint: api.server is a server code, and api.base_url an
 * https:// URL (http:// only to this machine). The server code goes into
 * the host name: "0010.evil.com#" would send the token to evil.com, so
 * only what Wolkvox's codes are made of is taken (1 to 16 letters and
 * digits). Plain http would send the token in clear, so it is refused
 * but for a loopback host (the mock API of the tests and the demo, a local
 * TLS-terminating proxy). False with errbuf set (exit 2).
 */
static bool
config_check_endpoint(const EtlConfig *cfg, char *errbuf)
{
	char		where[ETL_ERRLEN];
	GUri	   *uri;
	const char *scheme;
	bool		ok;

	if (cfg->server != NULL && *cfg->server != '\0' &&
		(strlen(cfg->server) > SERVER_CODE_MAX ||
		 strspn(cfg->server, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
		 != strlen(cfg->server)))
	{
		etl_seterr(errbuf, "%sapi.server must be the operation's server code, 1 to %d letters "
				   "or digits (as in https://wv0010.wolkvox.com): it goes into the host name; "
				   "use api.base_url for a whole URL",
				   config_where(cfg, "api", "server", where, sizeof(where)), SERVER_CODE_MAX);
		return false;
	}
	if (cfg->base_url == NULL || *cfg->base_url == '\0')
		return true;
	uri = g_uri_parse(cfg->base_url, G_URI_FLAGS_NONE, NULL);
	scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;
	ok = scheme != NULL && g_uri_get_host(uri) != NULL && *g_uri_get_host(uri) != '\0' &&
		(g_ascii_strcasecmp(scheme, "https") == 0 ||
		 (g_ascii_strcasecmp(scheme, "http") == 0 && host_is_loopback(g_uri_get_host(uri))));
	if (!ok)
		etl_seterr(errbuf, "%sapi.base_url must be an https:// URL (http:// only to this "
				   "machine: localhost, 127.0.0.1, ::1), so that the token never travels in clear",
				   config_where(cfg, "api", "base_url", where, sizeof(where)));
	if (uri != NULL)
		g_uri_unref(uri);
	return ok;
}

/*
 * config_check_conninfo: libpq can parse database.conninfo. Its own
 * message is not shown: it may quote a piece of a password.
 */
static bool
config_check_conninfo(const EtlConfig *cfg, char *errbuf)
{
	char		where[ETL_ERRLEN];
	char	   *err = NULL;
	PQconninfoOption *opts;

	if (cfg->conninfo == NULL || *cfg->conninfo == '\0')
		return true;
	if ((opts = PQconninfoParse(cfg->conninfo, &err)) != NULL)
	{
		PQconninfoFree(opts);
		return true;
	}
	PQfreemem(err);
	etl_seterr(errbuf, "%sdatabase.conninfo is not a connection string libpq can read (not "
			   "shown: it may hold a password); check its quoting: a value with blanks goes "
			   "in single quotes",
			   config_where(cfg, "database", "conninfo", where, sizeof(where)));
	return false;
}

/*
 * finish_operation: the checks and derived values of one operation's keys
 * (the top level's in a file without [operation NAME] sections).
 */
static bool
finish_operation(EtlConfig *cfg, char *errbuf)
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
	if (!privacy_key_load(cfg, errbuf))
		return false;
	if (!resolve_token(cfg, errbuf) || !config_check_endpoint(cfg, errbuf))
		return false;
	/* the top level of a file with sections is no operation: no name */
	if ((cfg->operation == NULL || *cfg->operation == '\0') && cfg->nops == 0)
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

/*
 * inherit: an operation takes the top level's value of every key its
 * section and --set did not give it, and of every key that is the same for
 * all operations (but its name, sync.operation, which its section gave).
 */
static void
inherit(EtlConfig *op, const EtlConfig *top)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (op->source[i] == CONF_DEFAULT ||
			(!(config_keys[i].flags & CK_PER_OPERATION) && op->source[i] != CONF_SECTION))
			config_copy_value(op, top, (int) i);
}

bool
config_finish(EtlConfig *cfg, char *errbuf)
{
	char		where[ETL_ERRLEN];
	int			opidx = config_key_index("sync", "operation");

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
	if (!config_check_conninfo(cfg, errbuf))
		return false;
	if (cfg->nops > 0 && cfg->source[opidx] != CONF_DEFAULT)
	{
		etl_seterr(errbuf, "%ssync.operation names the one operation of a file without "
				   "[operation NAME] sections; here each section's NAME names its operation",
				   config_where(cfg, "sync", "operation", where, sizeof(where)));
		return false;
	}
	/* the operations inherit the top level as given, before its own token
	 * file is read (an operation may have a token file of its own) */
	for (int i = 0; i < cfg->nops; i++)
		inherit(&cfg->ops[i], cfg);
	if (!finish_operation(cfg, errbuf))
		return false;
	for (int i = 0; i < cfg->nops; i++)
	{
		/* "[operation a]" and "[operation  a]" are two GKeyFile groups */
		for (int j = 0; j < i; j++)
		{
			if (strcmp(cfg->ops[i].operation, cfg->ops[j].operation) == 0)
			{
				etl_seterr(errbuf, "%s:%d: [operation %s] again (first at line %d)",
						   cfg->path, cfg->ops[i].section_line, cfg->ops[i].operation,
						   cfg->ops[j].section_line);
				return false;
			}
		}
		if (!finish_operation(&cfg->ops[i], errbuf))
			return false;
	}
	return true;
}

int
config_operation_count(const EtlConfig *cfg)
{
	return cfg->nops > 0 ? cfg->nops : 1;
}

EtlConfig *
config_operation(EtlConfig *cfg, int i)
{
	return cfg->nops > 0 ? &cfg->ops[i] : cfg;
}

EtlConfig *
config_find_operation(EtlConfig *cfg, const char *name)
{
	for (int i = 0; i < config_operation_count(cfg); i++)
	{
		EtlConfig  *op = config_operation(cfg, i);

		if (op->operation != NULL && strcmp(op->operation, name) == 0)
			return op;
	}
	return NULL;
}

const char *
config_endpoint(const EtlConfig *cfg)
{
	return cfg->endpoint;
}

/*
 * conninfo_append_value: v as a libpq key=value value: bare when it can
 * be, else single-quoted with ' and \ escaped.
 */
static void
conninfo_append_value(GString *g, const char *v)
{
	if (*v != '\0' && strpbrk(v, " \t\n\r\f\v'\\") == NULL)
	{
		g_string_append(g, v);
		return;
	}
	g_string_append_c(g, '\'');
	for (; *v; v++)
	{
		if (*v == '\'' || *v == '\\')
			g_string_append_c(g, '\\');
		g_string_append_c(g, *v);
	}
	g_string_append_c(g, '\'');
}

/*
 * config_mask_conninfo: see config.h. libpq parses the string
 * (PQconninfoParse: both forms, URI percent-escapes, quoting, a keyword
 * given twice), and the options it sets are written back as key=value in
 * libpq's order, each option libpq itself never shows (dispchar "*":
 * password, sslpassword) as ***. So no spelling of a password can slip
 * through a parser of our own. A string libpq cannot parse is not shown
 * at all: where it goes wrong may be inside a password.
 */
void
config_mask_conninfo(const char *conninfo, char *out, size_t size)
{
	char	   *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
	GString    *g;

	if (opts == NULL)
	{
		PQfreemem(err);
		snprintf(out, size, "*** (libpq cannot parse it; not shown)");
		return;
	}
	g = g_string_new(NULL);
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
	{
		if (o->val == NULL)
			continue;
		if (g->len > 0)
			g_string_append_c(g, ' ');
		g_string_append_printf(g, "%s=", o->keyword);
		if (o->dispchar != NULL && o->dispchar[0] == '*')
			g_string_append(g, "***");
		else
			conninfo_append_value(g, o->val);
	}
	snprintf(out, size, "%s", g->str);
	g_string_free(g, TRUE);
	PQconninfoFree(opts);
}

/*
 * config_conninfo_secrets: see config.h. The values of the options libpq
 * marks secret (dispchar "*"), as libpq reads them.
 */
size_t
config_conninfo_secrets(const char *conninfo, char **out, size_t max)
{
	PQconninfoOption *opts;
	char	   *err = NULL;
	size_t		n = 0;

	if (conninfo == NULL || (opts = PQconninfoParse(conninfo, &err)) == NULL)
	{
		PQfreemem(err);
		return 0;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL && n < max; o++)
	{
		if (o->val != NULL && o->val[0] != '\0' && o->dispchar != NULL &&
			o->dispchar[0] == '*' && (out[n] = strdup(o->val)) != NULL)
			n++;
	}
	PQconninfoFree(opts);
	return n;
}

/* print_key: "section.key = value  # source" for key idx of cfg. */
static void
print_key(const EtlConfig *cfg, int idx, FILE *out)
{
	char		name[64];
	char		value[2048];

	snprintf(name, sizeof(name), "%s.%s", config_keys[idx].section, config_keys[idx].name);
	config_format_value(cfg, &config_keys[idx], value, sizeof(value));
	switch (cfg->source[idx])
	{
		case CONF_FILE:
		case CONF_SECTION:
			fprintf(out, "%-22s = %-30s # %s:%d\n", name, value, cfg->path, cfg->line[idx]);
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

/*
 * config_print: every key as "section.key = value  # source", the source
 * being "default", "FILE:LINE", "environment (WOLKVOX_TOKEN)" or "--set";
 * the token and any password in the connection string masked; then each
 * operation's keys (those an [operation NAME] section may set). Then the
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
		/* with sections, each NAME is an operation's name: no top-level one */
		if (cfg->nops > 0 && (int) i == config_key_index("sync", "operation"))
			continue;
		print_key(cfg, (int) i, out);
	}
	for (int o = 0; o < cfg->nops; o++)
	{
		const EtlConfig *op = &cfg->ops[o];

		fprintf(out, "\n[operation %s]  # %s:%d; its own keys, or those it inherits\n",
				op->operation, op->path, op->section_line);
		for (size_t i = 0; i < N_KEYS; i++)
			if (config_keys[i].flags & CK_PER_OPERATION)
				print_key(op, (int) i, out);
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
