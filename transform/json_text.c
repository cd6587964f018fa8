/*
 * transform/json_text.c
 *   Writes JSON text for the transform: string escaping (RFC 8259, compact,
 *   non-ASCII UTF-8 kept as is) and the re-serialization of a collected
 *   field value; and cleans decoded strings of what PostgreSQL text cannot
 *   hold: U+0000 (jsonb rejects \u0000 too) is dropped, ill-formed UTF-8
 *   becomes U+FFFD, and the caller is told.
 */
#include <stdint.h>
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

static bool json_quote(Buf *b, const char *s, size_t n, bool keep_nul);

/*
 * json_append_string: s (n bytes, valid UTF-8 as yajl checked it) as a
 * quoted JSON string. Runs of plain bytes are appended in one go. Returns
 * true when a NUL byte was dropped.
 */
bool
json_append_string(Buf *b, const char *s, size_t n)
{
	return json_quote(b, s, n, false);
}

/* json_append_string_as_sent: the same, but a NUL byte is written as
 * \u0000 and the bytes are not checked: the string as the API sent it. */
void
json_append_string_as_sent(Buf *b, const char *s, size_t n)
{
	(void) json_quote(b, s, n, true);
}

/* json_quote: the two above; keep_nul writes NUL as \u0000. */
static bool
json_quote(Buf *b, const char *s, size_t n, bool keep_nul)
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

		/* as sent: a lone surrogate can only come from a \uD800..\uDFFF
		 * escape that yajl decoded; write that escape again */
		if (keep_nul && p[i] == 0xED && i + 2 < n && (p[i + 1] & 0xE0) == 0xA0 &&
			(p[i + 2] & 0xC0) == 0x80)
		{
			unsigned	cp = 0xD000 | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);

			buf_append(b, s + run, i - run);
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = hex[cp >> 12];
			esc[3] = hex[(cp >> 8) & 15];
			esc[4] = hex[(cp >> 4) & 15];
			esc[5] = hex[cp & 15];
			buf_append(b, esc, 6);
			i += 2;
			run = i + 1;
			continue;
		}
		if (e == 0)
			continue;
		buf_append(b, s + run, i - run);
		run = i + 1;
		if (p[i] == 0 && !keep_nul)
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

/*
 * json_escape_extra: how many bytes json_append_string_as_sent would add
 * to s (n bytes) besides its quotes: 1 for '"', '\\' and the controls with
 * a letter escape, 5 for the other controls (\u00XX), NUL included. Runs
 * with none of these are passed over eight bytes at a time.
 */
size_t
json_escape_extra(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	size_t		extra = 0;
	size_t		i = 0;
	uint64_t	w;

	while (i < n)
	{
		/* a byte below 0x20: (w - 0x20..) & ~w has its high bit (for bytes
		 * below 0x80); '"' and '\\': a zero byte in w ^ 0x22.. or 0x5C.. */
		if (n - i >= 8)
		{
			uint64_t	q;
			uint64_t	b;

			memcpy(&w, p + i, 8);
			q = w ^ (ones * 0x22);
			b = w ^ (ones * 0x5C);
			if ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs)
				;				/* one of them is in there: byte by byte */
			else
			{
				i += 8;
				continue;
			}
		}
		for (size_t end = (n - i >= 8) ? i + 8 : n; i < end; i++)
		{
			char		e = escape_char[p[i]];

			if (e != 0)
				extra += e == 'u' ? 5 : 1;
		}
	}
	return extra;
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
 * utf8_seq: the length of the well-formed UTF-8 sequence at p (Unicode
 * table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF), or
 * 0 when it is ill-formed; *bad then gets the length of its maximal
 * subpart (the lead byte and the continuation bytes that could still have
 * been part of a well-formed sequence), at least 1.
 */
static size_t
utf8_seq(const unsigned char *p, size_t n, size_t *bad)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;
	size_t		len;
	size_t		k;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;			/* overlong below U+0800 */
		else if (c == 0xED)
			hi = 0x9F;			/* U+D800..U+DFFF: surrogates */
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		len = 4;
		if (c == 0xF0)
			lo = 0x90;			/* overlong below U+10000 */
		else if (c == 0xF4)
			hi = 0x8F;			/* above U+10FFFF */
	}
	else
	{
		*bad = 1;				/* a stray continuation, C0, C1, F5..FF */
		return 0;
	}
	for (k = 1; k < len; k++)
	{
		if (k >= n || p[k] < lo || p[k] > hi)
		{
			*bad = k;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return len;
}

/*
 * text_clean_scan: the offset of the first byte of s that text_clean would
 * change (a NUL, or the start of an ill-formed UTF-8 sequence), or n when
 * s can be copied as is. Runs of ASCII are checked eight bytes at a time.
 */
size_t
text_clean_scan(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	size_t		i = 0;
	size_t		bad;
	size_t		len;
	uint64_t	w;

	for (;;)
	{
		/* a run of 0x01..0x7F: eight bytes at a time while no byte has its
		 * high bit set and none is zero ((w - ones) & ~w sets the high bit
		 * of a zero byte), then byte by byte */
		while (n - i >= 8)
		{
			memcpy(&w, p + i, 8);
			if (((w | ((w - ones) & ~w)) & highs) != 0)
				break;
			i += 8;
		}
		while (i < n && p[i] - 1u < 0x7Fu)
			i++;
		if (i == n)
			return n;
		if (p[i] == 0 || (len = utf8_seq(p + i, n - i, &bad)) == 0)
			return i;
		i += len;
	}
}

/*
 * text_clean: append s to b without its NUL bytes, and with U+FFFD in place
 * of each maximal ill-formed UTF-8 subpart (what yajl lets through: lone
 * low surrogates from \uDC00..\uDFFF escapes decoded into UTF-8, and raw
 * overlong, surrogate or out-of-range sequences, whose structure alone its
 * lexer checks). PostgreSQL can hold neither. Returns TEXT_* flags.
 */
unsigned
text_clean(Buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	unsigned	flags = 0;
	size_t		i;

	while ((i = text_clean_scan(s, n)) < n)
	{
		size_t		bad = 1;

		buf_append(b, s, i);
		if (p[i] == 0)
			flags |= TEXT_NUL_REMOVED;
		else
		{
			utf8_seq(p + i, n - i, &bad);
			buf_append(b, "\xEF\xBF\xBD", 3);
			flags |= TEXT_UTF8_REPLACED;
		}
		s += i + bad;
		p += i + bad;
		n -= i + bad;
	}
	buf_append(b, s, n);
	return flags;
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
