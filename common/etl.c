/*
 * common/etl.c
 *   Small helpers every stage shares.
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
