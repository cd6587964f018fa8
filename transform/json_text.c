/*
 * transform/json_text.c
 *   Writes JSON text for the transform: string escaping (RFC 8259, compact,
 *   non-ASCII UTF-8 kept as is) and the re-serialization of a collected
 *   field value. U+0000 is never written: PostgreSQL's jsonb rejects
 *   \u0000, so it is dropped and the caller told.
 */
#include <string.h>

#include "transform/transform_int.h"

/*
 * escape_char: for each byte, 0 when it is copied as is, else the letter
 * after the backslash ('u' for \u00XX). Built once, at compile time.
 */
#define U_ 'u'
static const char escape_char[256] = {
	U_, U_, U_, U_, U_, U_, U_, U_, 'b', 't', 'n', U_, 'f', 'r', U_, U_,
	U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_,
	0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
};
#undef U_

/*
 * json_append_string: s (n bytes, valid UTF-8 as yajl checked it) as a
 * quoted JSON string. Runs of plain bytes are appended in one go. Returns
 * true when a NUL byte was dropped.
 */
bool
json_append_string(Buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *) s;
	size_t		run = 0;
	size_t		i;
	bool		dropped = false;
	char		esc[6];

	buf_putc(b, '"');
	for (i = 0; i < n; i++)
	{
		char		e = escape_char[p[i]];

		if (e == 0)
			continue;
		buf_append(b, s + run, i - run);
		run = i + 1;
		if (p[i] == 0)
		{
			dropped = true;
			continue;
		}
		esc[0] = '\\';
		esc[1] = e;
		if (e != 'u')
		{
			buf_append(b, esc, 2);
			continue;
		}
		esc[2] = '0';
		esc[3] = '0';
		esc[4] = hex[p[i] >> 4];
		esc[5] = hex[p[i] & 15];
		buf_append(b, esc, 6);
	}
	buf_append(b, s + run, n - run);
	buf_putc(b, '"');
	return dropped;
}

/* json_append_value: a collected field value as JSON text. */
void
json_append_value(Buf *b, const RecordScratch *rs, const RawField *f)
{
	const char *v = rs->arena.data + f->val_off;

	if (f->kind == FK_STRING)
		json_append_string(b, v, f->val_len);
	else
		buf_append(b, v, f->val_len);
}

/*
 * json_copy_without_nul: append s to b without its NUL bytes; returns how
 * many were dropped. The common case (none) is one memchr and one copy.
 */
size_t
json_copy_without_nul(Buf *b, const char *s, size_t n)
{
	const char *nul = memchr(s, '\0', n);
	size_t		dropped = 0;

	if (nul == NULL)
	{
		buf_append(b, s, n);
		return 0;
	}
	while (nul != NULL)
	{
		buf_append(b, s, (size_t) (nul - s));
		n -= (size_t) (nul - s) + 1;
		s = nul + 1;
		dropped++;
		nul = memchr(s, '\0', n);
	}
	buf_append(b, s, n);
	return dropped;
}

/* utf8_prefix: the longest prefix of s, at most max bytes, that does not
 * cut a UTF-8 sequence. */
size_t
utf8_prefix(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char) s[max] & 0xC0) == 0x80)
		max--;
	return max;
}
