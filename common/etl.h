/*
 * common/etl.h
 *   Definitions every stage shares: exit codes, error buffer size, and the
 *   borrowed byte-string type used to hand values between stages.
 */
#ifndef WVETL_ETL_H
#define WVETL_ETL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WVETL_VERSION "0.1.0"

/* Size of every caller-supplied error buffer (pure layers fill one). */
#define ETL_ERRLEN 512

/* Exit codes, as the contract fixes them. */
#define EXIT_OK          0
#define EXIT_FAILED      1   /* API, database or data error after retries */
#define EXIT_USAGE       2   /* usage or configuration error */
#define EXIT_INTERRUPTED 130 /* SIGINT/SIGTERM: window in flight rolled back */
#define EXIT_TRYLATER    75  /* lock held elsewhere, or token's daily limit */

/*
 * EtlStr: a borrowed, length-counted byte string. ptr == NULL means SQL NULL.
 * Never NUL-terminated by contract; never use strlen on it.
 */
typedef struct EtlStr
{
	const char *ptr;
	size_t		len;
} EtlStr;

#define ETL_STR_NULL ((EtlStr) { NULL, 0 })

/*
 * Make s (NUL-terminated, changed in place) safe to show on a terminal:
 * DEL and the C1 controls (U+0080..U+009F) become '?', and with c0 the C0
 * controls too but tab (without it, a later escaping step shows them).
 * Text from outside (the API's msg) can then neither move the cursor nor
 * retitle the window nor fake a line. Returns s.
 */
char	   *etl_text_defang(char *s, bool c0);

/* Format into errbuf (ETL_ERRLEN bytes); always NUL-terminates. */
void		etl_seterr(char *errbuf, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

#endif							/* WVETL_ETL_H */
