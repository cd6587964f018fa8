/*
 * common/buf.c
 *   Growable byte buffer with a sticky failure flag; see buf.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

/* buf_grow: make room for n more bytes; sets failed on overflow or OOM. */
static bool
buf_grow(Buf *b, size_t n)
{
	size_t		need;
	size_t		cap;
	char	   *p;

	if (b->failed)
		return false;
	if (n <= b->cap - b->len && b->data != NULL)
		return true;
	need = b->len + n + 1;		/* room for a terminating NUL */
	if (need < b->len || (b->limit > 0 && need - 1 > b->limit))
	{
		b->failed = true;
		return false;
	}
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
	{
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap - 1;			/* keep one byte for buf_cstr */
	return true;
}

char *
buf_reserve(Buf *b, size_t n)
{
	if (!buf_grow(b, n))
		return NULL;
	return b->data + b->len;
}

void
buf_append(Buf *b, const void *p, size_t n)
{
	if (n == 0 || !buf_grow(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
buf_putc(Buf *b, char c)
{
	if (b->data != NULL && b->len < b->cap && !b->failed)
	{
		b->data[b->len++] = c;
		return;
	}
	buf_append(b, &c, 1);
}

void
buf_puts(Buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_printf(Buf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_grow(b, (size_t) n + 1))
	{
		b->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

const char *
buf_cstr(Buf *b)
{
	if (!buf_grow(b, 0))
		return "";
	b->data[b->len] = '\0';
	return b->data;
}

void
buf_reset(Buf *b)
{
	b->len = 0;
	b->failed = false;
}

void
buf_free(Buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
}
