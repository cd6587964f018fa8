/*
 * common/config_file.c
 *   Reads the INI file into the configuration. The file is read with
 *   GLib's GKeyFile (no line-length limit, ';' inside a value kept, no
 *   escapes in get_value). Before handing the text to GKeyFile we scan it
 *   once, in line order: to know each key's line (for "file:line: message"
 *   errors), to refuse unknown sections and keys there (with a "did you
 *   mean" from the table), and to accept ';' comment lines, which GKeyFile
 *   does not.
 *
 *   Pure: fills an errbuf, never logs.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/config_int.h"

static bool config_scan(const char *path, char *text, GHashTable *lines, char *errbuf);
static bool load_group(EtlConfig *cfg, GKeyFile *kf, const char *group, const char *path,
					   GHashTable *lines, char *errbuf);

/* Trim trailing blanks and a trailing CR of an INI value, in place. */
static void
trim_right(char *s)
{
	size_t		n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/*
 * operation_name_ok: an operation's name is 1 to 63 letters, digits, '_',
 * '-' or '.': it is stored in every row, shown in logs, and names the
 * operation's directory under archive.dir.
 */
static bool
operation_name_ok(const char *name)
{
	size_t		n = strlen(name);

	return n >= 1 && n <= 63 && name[0] != '.' &&
		strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			   "0123456789_-.") == n;
}

/*
 * scan_section: the [section] header at lineno names a known section, or
 * "operation NAME" with a valid NAME not seen before; an operation's
 * header line is remembered in lines ("section\n" -> line). False with
 * "path:line: message".
 */
static bool
scan_section(const char *path, int lineno, const char *section, GHashTable *lines,
			 char *errbuf)
{
	const char *name = config_operation_section(section);
	gchar	   *key;
	int			first;

	if (name == NULL)
	{
		if (config_section_known(section))
			return true;
		etl_seterr(errbuf, "%s:%d: unknown section [%s] (known: [api], [database], "
				   "[sync], [archive], [log], [operation NAME])", path, lineno, section);
		return false;
	}
	if (!operation_name_ok(name))
	{
		etl_seterr(errbuf, "%s:%d: [%s]: an operation's name is 1 to 63 letters, digits, "
				   "'_', '-' or '.'", path, lineno, section);
		return false;
	}
	key = g_strdup_printf("%s\n", section);
	first = GPOINTER_TO_INT(g_hash_table_lookup(lines, key));
	if (first > 0)
	{
		etl_seterr(errbuf, "%s:%d: [%s] again (first at line %d): one section per operation",
				   path, lineno, section, first);
		g_free(key);
		return false;
	}
	g_hash_table_replace(lines, key, GINT_TO_POINTER(lineno));
	return true;
}

/*
 * config_scan: check every line of text is blank, a comment, a [section] or
 * key = value, turn ';' comment lines into '#' ones (GKeyFile knows only
 * '#'), and remember each key's line number in lines ("section\nkey" ->
 * line; "section\n" -> the line of an [operation NAME] header). Returns
 * false with "path:line: message" for the first bad line.
 */
static bool
config_scan(const char *path, char *text, GHashTable *lines, char *errbuf)
{
	char		why[ETL_ERRLEN];
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
			if (!scan_section(path, lineno, section, lines, errbuf))
			{
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
			if (config_section_key_index(section, key, why, sizeof(why)) < 0)
			{
				etl_seterr(errbuf, "%s:%d: %s", path, lineno, why);
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

/* file_holds_token: api.token is set in the file, at the top level or in
 * an operation's section. */
static bool
file_holds_token(const EtlConfig *cfg)
{
	int			idx = config_key_index("api", "token");

	if (cfg->token != NULL && cfg->source[idx] == CONF_FILE)
		return true;
	for (int i = 0; i < cfg->nops; i++)
		if (cfg->ops[i].token != NULL && cfg->ops[i].source[idx] == CONF_SECTION)
			return true;
	return false;
}

/* file_holds_password: database.conninfo, set in the file (at the top
 * level or in an operation's section), has a secret option as libpq reads
 * it (password, sslpassword). */
static bool
file_holds_password(const EtlConfig *cfg)
{
	int			idx = config_key_index("database", "conninfo");
	char	   *secrets[4];
	size_t		n = 0;
	bool		held = false;

	if (cfg->source[idx] == CONF_FILE)
		n = config_conninfo_secrets(cfg->conninfo, secrets, 4);
	held = n > 0;
	while (n > 0)
		free(secrets[--n]);
	for (int i = 0; i < cfg->nops && !held; i++)
	{
		if (cfg->ops[i].source[idx] == CONF_SECTION)
			n = config_conninfo_secrets(cfg->ops[i].conninfo, secrets, 4);
		held = n > 0;
		while (n > 0)
			free(secrets[--n]);
	}
	return held;
}

/*
 * add_operation: a new operation for the section [operation NAME] whose
 * header is at line: nothing set but its name (config_finish gives it the
 * top level's values for the keys its section does not set). NULL when
 * out of memory.
 */
static EtlConfig *
add_operation(EtlConfig *cfg, const char *name, int line)
{
	EtlConfig  *ops = realloc(cfg->ops, sizeof(EtlConfig) * (size_t) (cfg->nops + 1));
	EtlConfig  *op;
	int			idx = config_key_index("sync", "operation");

	if (ops == NULL)
		return NULL;
	cfg->ops = ops;
	op = &ops[cfg->nops++];
	memset(op, 0, sizeof(*op));
	op->section_line = line;
	op->operation = strdup(name);
	op->source[idx] = CONF_SECTION;
	op->line[idx] = line;
	return op->operation != NULL ? op : NULL;
}

/*
 * load_group: every key of [group] into cfg (CONF_FILE), or into a new
 * operation for an [operation NAME] group (CONF_SECTION). config_scan has
 * checked the keys; a bad value is "path:line: message" in errbuf.
 */
static bool
load_group(EtlConfig *cfg, GKeyFile *kf, const char *group, const char *path,
		   GHashTable *lines, char *errbuf)
{
	const char *opname = config_operation_section(group);
	EtlConfig  *target = cfg;
	ConfigSource source = CONF_FILE;
	gchar	  **keys;
	bool		ok = true;

	if (opname != NULL)
	{
		gchar	   *lk = g_strdup_printf("%s\n", group);

		target = add_operation(cfg, opname,
							   GPOINTER_TO_INT(g_hash_table_lookup(lines, lk)));
		g_free(lk);
		if (target == NULL)
		{
			etl_seterr(errbuf, "%s: out of memory", path);
			return false;
		}
		source = CONF_SECTION;
	}
	keys = g_key_file_get_keys(kf, group, NULL, NULL);
	for (gchar **k = keys; ok && k != NULL && *k != NULL; k++)
	{
		gchar	   *lk = g_strdup_printf("%s\n%s", group, *k);
		int			line = GPOINTER_TO_INT(g_hash_table_lookup(lines, lk));
		char		why[ETL_ERRLEN];
		int			idx = config_section_key_index(group, *k, why, sizeof(why));
		gchar	   *value;

		g_free(lk);
		if (idx < 0)
		{
			etl_seterr(errbuf, "%s:%d: %s", path, line, why);
			ok = false;
			break;
		}
		value = g_key_file_get_value(kf, group, *k, NULL);
		trim_right(value);
		if (!config_assign(target, idx, value, why))
		{
			etl_seterr(errbuf, "%s:%d: %s", path, line, why);
			ok = false;
		}
		g_free(value);
		target->source[idx] = source;
		target->line[idx] = line;
	}
	g_strfreev(keys);
	return ok;
}

/*
 * config_load_file: read path into cfg: the top-level sections into cfg,
 * each [operation NAME] into an operation of cfg->ops. Unknown sections or
 * keys and bad values are errors ("path:line: ..."). A missing file is an
 * error unless missing_ok.
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
		if (!load_group(cfg, kf, *g, path, lines, errbuf))
			goto cleanup;
	}
	free(cfg->path);
	cfg->path = strdup(path);
	for (int i = 0; i < cfg->nops; i++)
		cfg->ops[i].path = strdup(path);
	/* The file holds a token or a database password when it came from it
	 * (it may still be overridden later by $WOLKVOX_TOKEN or --set: the
	 * file holds it all the same). */
	{
		bool		token = file_holds_token(cfg);
		bool		password = file_holds_password(cfg);

		cfg->insecure_file = (st.st_mode & (S_IRGRP | S_IROTH)) != 0 && (token || password);
		cfg->insecure_what = token && password ? "api.token and a password in database.conninfo"
			: token ? "api.token" : "a password in database.conninfo";
	}
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
