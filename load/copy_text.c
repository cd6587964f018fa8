/*
 * load/copy_text.c
 *   COPY text-format fields: escaping as PostgreSQL's CopyAttributeOutText
 *   does, integers written straight into the row buffer. The loader's
 *   rejects and dimension rows use them (the survey rows go in binary:
 *   copy_binary.c).
 *   Pure: never logs; buffer growth failures are sticky in Buf.failed.
 */
#include <string.h>

#include "common/buf.h"
#include "load/load.h"
#include "load/load_int.h"

#define ESC_DROP 1				/* a NUL byte: text cannot hold it */

/*
 * The escape letter for each byte, 0 for bytes copied as they are.
 * PostgreSQL escapes backslash, the delimiter (tab) and the control
 * characters that have a letter; other control bytes and every byte >= 0x80
 * (UTF-8 sequences) pass through unchanged, which COPY FROM accepts.
 */
static const unsigned char copy_escape[256] = {
	[0] = ESC_DROP,
	['\b'] = 'b',
	['\t'] = 't',
	['\n'] = 'n',
	['\v'] = 'v',
	['\f'] = 'f',
	['\r'] = 'r',
	['\\'] = '\\',
};

/*
 * copy_text_field: append value as one COPY text field (no delimiter).
 * A NULL ptr writes \N. Runs of safe bytes go in one append. NUL bytes are
 * dropped (the transform has removed them already; this keeps a stray one
 * from breaking the whole COPY).
 */
void
copy_text_field(Buf *out, EtlStr value)
{
	const unsigned char *p = (const unsigned char *) value.ptr;
	size_t		start = 0;
	size_t		i;

	if (value.ptr == NULL)
	{
		buf_append(out, "\\N", 2);
		return;
	}
	for (i = 0; i < value.len; i++)
	{
		unsigned char esc = copy_escape[p[i]];

		if (esc == 0)
			continue;
		buf_append(out, p + start, i - start);
		if (esc != ESC_DROP)
		{
			char		pair[2] = {'\\', (char) esc};

			buf_append(out, pair, 2);
		}
		start = i + 1;
	}
	buf_append(out, p + start, value.len - start);
}

/*
 * int_to_decimal: v in decimal, written at the end of tmp (no snprintf on
 * the per-record path); returns where the digits start, *len their count.
 */
const char *
int_to_decimal(char tmp[INT_DECIMAL_MAX], int64_t v, size_t *len)
{
	char	   *end = tmp + INT_DECIMAL_MAX;
	char	   *p = end;
	uint64_t	u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

	do
	{
		*--p = (char) ('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	*len = (size_t) (end - p);
	return p;
}

/* copy_text_int: append v in decimal. */
void
copy_text_int(Buf *out, int64_t v)
{
	char		tmp[INT_DECIMAL_MAX];
	size_t		len;
	const char *p = int_to_decimal(tmp, v, &len);

	buf_append(out, p, len);
}
