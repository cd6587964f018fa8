/*
 * common/etl.c
 *   Small helpers every stage shares: error buffers, and text made safe
 *   for a terminal.
 */
#include <stdarg.h>
#include <stdio.h>

#include "common/etl.h"

void
etl_seterr(char *errbuf, const char *fmt,...)
{
	va_list		ap;

	if (errbuf == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, ETL_ERRLEN, fmt, ap);
	va_end(ap);
}

char *
etl_text_defang(char *s, bool c0)
{
	char	   *r = s;
	char	   *w = s;

	while (*r != '\0')
	{
		unsigned char c = (unsigned char) r[0];
		unsigned char next = (unsigned char) r[1];

		if (c == 0x7f || (c0 && c < 0x20 && c != '\t'))
		{
			*w++ = '?';
			r++;
		}
		else if (c == 0xC2 && next >= 0x80 && next <= 0x9F)
		{
			*w++ = '?';			/* U+0080..U+009F in UTF-8 */
			r += 2;
		}
		else
			*w++ = *r++;
	}
	*w = '\0';
	return s;
}
