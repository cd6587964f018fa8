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
