/*
 * load/identity.c
 *   A record's identity (operation, conn_id, answered_at, agent_id,
 *   skill_id) as a 63-bit response_id. The SQL function
 *   survey_response_id() in sql/001_init.sql computes the same value.
 */
#include <stdio.h>
#include <string.h>

#include "load/load.h"
#include "load/load_int.h"

/*
 * identity_put: feed "<byte length>:<bytes>" to md5, or "0:" for NULL.
 * The length prefix keeps ("ab","c") and ("a","bc") apart; "0:" cannot be
 * confused with a real value because placeholder mapping never leaves an
 * empty non-NULL value (and an empty one would hash the same, harmlessly).
 */
static void
identity_put(GChecksum *md5, const char *p, size_t len)
{
	char		prefix[24];
	int			n;

	n = snprintf(prefix, sizeof(prefix), "%zu:", p != NULL ? len : 0);
	g_checksum_update(md5, (const guchar *) prefix, n);
	if (p != NULL && len > 0)
		g_checksum_update(md5, (const guchar *) p, (gssize) len);
}

/*
 * identity_response_id: the response_id of rec's identity. md5 is reset and
 * reused, so a window hashes without allocating per record.
 */
int64_t
identity_response_id(GChecksum *md5, const char *operation,
					 size_t operation_len, const SurveyRecord *rec)
{
	char		epoch[24];
	guint8		digest[16];
	gsize		digest_len = sizeof(digest);
	uint64_t	v = 0;
	int			n;
	int			i;

	g_checksum_reset(md5);
	identity_put(md5, operation, operation_len);
	identity_put(md5, rec->field[SF_CONN_ID].ptr, rec->field[SF_CONN_ID].len);
	n = snprintf(epoch, sizeof(epoch), "%lld", (long long) rec->answered_at);
	identity_put(md5, epoch, (size_t) n);
	identity_put(md5, rec->field[SF_AGENT_ID].ptr, rec->field[SF_AGENT_ID].len);
	identity_put(md5, rec->field[SF_SKILL_ID].ptr, rec->field[SF_SKILL_ID].len);
	g_checksum_get_digest(md5, digest, &digest_len);

	for (i = 0; i < 8; i++)
		v = (v << 8) | digest[i];
	return (int64_t) (v & INT64_MAX);
}

/* load_response_id: as identity_response_id, with a checksum of its own
 * (for tests and one-off use; the loader reuses one per connection). */
int64_t
load_response_id(const char *operation, const SurveyRecord *rec)
{
	GChecksum  *md5 = g_checksum_new(G_CHECKSUM_MD5);
	int64_t		id;

	id = identity_response_id(md5, operation, strlen(operation), rec);
	g_checksum_free(md5);
	return id;
}
