/*
 * load/sql_split.c
 *   Splits an SQL script into its statements, for servers that take one
 *   DDL statement per command (Citus: see dialect_exec_script()). Knows
 *   what PostgreSQL's lexer knows about where a ';' does not end a
 *   statement: '--' and nested block comments, 'strings' (with '' inside,
 *   and E'...' with backslash escapes), "identifiers" and $tag$ dollar
 *   quotes $tag$. Pure: no I/O, no allocation.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "load/load_int.h"

/* skip_quoted: past the closing quote q of a string or identifier that
 * starts at s[i] (the opening quote); backslash escapes when esc. */
static size_t
skip_quoted(const char *s, size_t i, char q, bool esc)
{
	for (i++; s[i] != '\0'; i++)
	{
		if (esc && s[i] == '\\' && s[i + 1] != '\0')
			i++;
		else if (s[i] == q)
		{
			if (s[i + 1] != q)
				return i + 1;
			i++;				/* doubled quote */
		}
	}
	return i;
}

/* dollar_tag_len: length of the "$tag$" opening at s[i], or 0 when s[i]
 * opens none (a parameter like $1, or a lone $). */
static size_t
dollar_tag_len(const char *s, size_t i)
{
	size_t		n = 1;

	if (isdigit((unsigned char) s[i + 1]))
		return 0;
	while (isalnum((unsigned char) s[i + n]) || s[i + n] == '_')
		n++;
	return s[i + n] == '$' ? n + 1 : 0;
}

/* skip_comment: past a block comment starting at s[i] ("/" "*"); they
 * nest in PostgreSQL. */
static size_t
skip_comment(const char *s, size_t i)
{
	int			depth = 0;

	while (s[i] != '\0')
	{
		if (s[i] == '/' && s[i + 1] == '*')
		{
			depth++;
			i += 2;
		}
		else if (s[i] == '*' && s[i + 1] == '/')
		{
			i += 2;
			if (--depth == 0)
				return i;
		}
		else
			i++;
	}
	return i;
}

/* skip_token: past the comment, string, identifier or dollar quote that
 * starts at s[i], or past s[i] when it starts none. *code is set when
 * s[i] is part of a statement (not blank, not a comment). */
static size_t
skip_token(const char *s, size_t i, bool *code)
{
	size_t		n;

	*code = true;
	if (s[i] == '-' && s[i + 1] == '-')
	{
		*code = false;
		while (s[i] != '\0' && s[i] != '\n')
			i++;
		return i;
	}
	if (s[i] == '/' && s[i + 1] == '*')
	{
		*code = false;
		return skip_comment(s, i);
	}
	if (s[i] == '\'')
		return skip_quoted(s, i, '\'',
						   i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
						   (i < 2 || !(isalnum((unsigned char) s[i - 2]) || s[i - 2] == '_')));
	if (s[i] == '"')
		return skip_quoted(s, i, '"', false);
	if (s[i] == '$' && (n = dollar_tag_len(s, i)) > 0)
	{
		const char *end;

		for (end = s + i + n; *end != '\0'; end++)
		{
			if (strncmp(end, s + i, n) == 0)
				return (size_t) (end - s) + n;
		}
		return (size_t) (end - s);
	}
	*code = !isspace((unsigned char) s[i]);
	return i + 1;
}

/* sql_split_next: see load_int.h. */
bool
sql_split_next(const char *s, size_t *pos, size_t *start, size_t *len)
{
	size_t		i = *pos;
	bool		any = false;
	bool		code;

	*start = i;
	while (s[i] != '\0' && s[i] != ';')
	{
		size_t		next = skip_token(s, i, &code);

		if (code && !any)
		{
			any = true;
			*start = i;
		}
		i = next;
	}
	*len = i - *start;
	*pos = s[i] == ';' ? i + 1 : i;
	if (!any && s[i] == ';')
		return sql_split_next(s, pos, start, len);	/* an empty statement */
	return any;
}
