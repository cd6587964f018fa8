/*
 * load/identity.c
 *   A record's identity (operation, conn_id, answered_at, agent_id,
 *   skill_id) as a positive 63-bit response_id that sorts by time:
 *   (answered_at in epoch seconds, clamped to [0, 2^32 - 1], i.e. up to
 *   the year 2106) << 31, OR the first 31 bits of
 *   the md5 of the length-prefixed identity. The surveys (and answers) of a
 *   time range are then one contiguous response_id range, and loads append
 *   at the right edge of the primary keys. Two identities share an id only
 *   in the same second with the same 31 hash bits (about once in 40 years
 *   at 100,000 surveys a day); the later of the two then takes the next
 *   free id of that second (load/collision.c), so this is the id an
 *   identity is stored under unless etl_id_probe says otherwise. The SQL
 *   function survey_response_id() in sql/001_init.sql computes the same
 *   value.
 */
#include <stdint.h>
#include <string.h>

#include "load/load.h"
#include "load/load_int.h"

/* The low IDENTITY_HASH_BITS (load_int.h) hold the hash; the seconds above
 * them are clamped so that the id stays positive. */
#define IDENTITY_MAX_SECS	((INT64_C(1) << (63 - IDENTITY_HASH_BITS)) - 1)

/*
 * identity_put: feed "<byte length>:<bytes>" to md5, or "0:" for NULL.
 * The length prefix keeps ("ab","c") and ("a","bc") apart; "0:" cannot be
 * confused with a real value because placeholder mapping never leaves an
 * empty non-NULL value (and an empty one would hash the same, harmlessly).
 */
static void
identity_put(GChecksum *md5, const char *p, size_t len)
{
	char		tmp[INT_DECIMAL_MAX];
	size_t		n;
	const char *digits = int_to_decimal(tmp, p != NULL ? (int64_t) len : 0, &n);

	g_checksum_update(md5, (const guchar *) digits, (gssize) n);
	g_checksum_update(md5, (const guchar *) ":", 1);
	if (p != NULL && len > 0)
		g_checksum_update(md5, (const guchar *) p, (gssize) len);
}

/*
 * identity_response_id: the response_id of rec's identity (see the header
 * comment; the md5 covers the unclamped epoch). md5 is reset and reused, so
 * a window hashes without allocating per record.
 */
int64_t
identity_response_id(GChecksum *md5, const char *operation,
					 size_t operation_len, const SurveyRecord *rec)
{
	char		tmp[INT_DECIMAL_MAX];
	const char *epoch;
	size_t		n;
	guint8		digest[16];
	gsize		digest_len = sizeof(digest);
	int64_t		secs;
	uint64_t	v;

	g_checksum_reset(md5);
	identity_put(md5, operation, operation_len);
	identity_put(md5, rec->field[SF_CONN_ID].ptr, rec->field[SF_CONN_ID].len);
	epoch = int_to_decimal(tmp, rec->answered_at, &n);
	identity_put(md5, epoch, n);
	identity_put(md5, rec->field[SF_AGENT_ID].ptr, rec->field[SF_AGENT_ID].len);
	identity_put(md5, rec->field[SF_SKILL_ID].ptr, rec->field[SF_SKILL_ID].len);
	g_checksum_get_digest(md5, digest, &digest_len);

	secs = rec->answered_at < 0 ? 0 :
		(rec->answered_at > IDENTITY_MAX_SECS ? IDENTITY_MAX_SECS : rec->answered_at);
	v = (((uint64_t) digest[0] << 24) | ((uint64_t) digest[1] << 16) |
		 ((uint64_t) digest[2] << 8) | digest[3]) >> 1;
	return (int64_t) (((uint64_t) secs << IDENTITY_HASH_BITS) | v);
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
