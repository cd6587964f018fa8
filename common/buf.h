/*
 * common/buf.h
 *   A growable byte buffer with a sticky failure flag (pktbuf style): the
 *   append functions return nothing; callers check buf->failed once.
 */
#ifndef WVETL_BUF_H
#define WVETL_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct Buf
{
	char	   *data;			/* owned; NULL until the first append */
	size_t		len;
	size_t		cap;
	size_t		limit;			/* 0 = unlimited; growth past it fails */
	bool		failed;			/* allocation failed or limit hit */
} Buf;

#define BUF_INIT { NULL, 0, 0, 0, false }

void		buf_append(Buf *b, const void *p, size_t n);
void		buf_putc(Buf *b, char c);
void		buf_puts(Buf *b, const char *s);
void		buf_printf(Buf *b, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
/* Ensure room for n more bytes; returns a pointer to write them, or NULL. */
char	   *buf_reserve(Buf *b, size_t n);
/* Make data a NUL-terminated string (the NUL is not counted in len). */
const char *buf_cstr(Buf *b);
void		buf_reset(Buf *b);	/* len = 0, failed = false; keeps memory */
void		buf_free(Buf *b);	/* releases memory; b is reusable after */

#endif							/* WVETL_BUF_H */
