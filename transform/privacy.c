/*
 * transform/privacy.c
 *   Personal data (privacy.ani, privacy.customer_id, privacy.agent_dni):
 *   before a record is typed, the value of each protected key is replaced,
 *   in the record's collected fields, by its keyed HMAC-SHA256 ("hmac:" and
 *   64 hex digits) or by JSON null. Everything later built from the fields
 *   (the typed record, extras, a reject's raw text) then holds only the
 *   protected value; survey.c does the same for the record as sent.
 *
 *   The hash is over the text the column would hold (the string cleaned of
 *   U+0000 and ill-formed UTF-8, or the JSON text of a number, boolean or
 *   nested value), so 3001234567 and "3001234567" give the same hash.
 *   Pure: no I/O, no logging; the key is borrowed.
 */
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "transform/transform.h"
#include "transform/transform_int.h"

/* The record keys that hold personal data, and their field. */
static const struct
{
	const char *name;
	size_t		len;
	SurveyField field;
}			personal_keys[] = {
	{"ani", 3, SF_ANI},
	{"customer_id", 11, SF_CUSTOMER_ID},
	{"agent_dni", 9, SF_AGENT_DNI},
};

bool
transform_privacy_active(const TransformPrivacy *p)
{
	for (int i = 0; i < SF_COUNT; i++)
		if (p->mode[i] != PRIVACY_KEEP)
			return true;
	return false;
}

void
transform_privacy_hash(const unsigned char *key, size_t key_len, const char *s, size_t n,
					   char out[TRANSFORM_HASH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	guint8		digest[32];
	gsize		dlen = sizeof(digest);
	GHmac	   *h = g_hmac_new(G_CHECKSUM_SHA256, key, key_len);
	char	   *o = out + strlen(TRANSFORM_HASH_PREFIX);

	g_hmac_update(h, (const guchar *) s, (gssize) n);
	g_hmac_get_digest(h, digest, &dlen);
	g_hmac_unref(h);
	memcpy(out, TRANSFORM_HASH_PREFIX, strlen(TRANSFORM_HASH_PREFIX));
	for (size_t i = 0; i < sizeof(digest); i++)
	{
		*o++ = hex[digest[i] >> 4];
		*o++ = hex[digest[i] & 15];
	}
	*o = '\0';
}

bool
transform_is_protected(const char *s, size_t n)
{
	size_t		plen = strlen(TRANSFORM_HASH_PREFIX);

	if (n != TRANSFORM_HASH_LEN || memcmp(s, TRANSFORM_HASH_PREFIX, plen) != 0)
		return false;
	for (size_t i = plen; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* personal_mode: the mode for a record key (any case), KEEP for others. */
static PrivacyMode
personal_mode(const TransformPrivacy *p, const char *key, size_t n)
{
	for (size_t i = 0; i < sizeof(personal_keys) / sizeof(personal_keys[0]); i++)
		if (personal_keys[i].len == n && strncasecmp(personal_keys[i].name, key, n) == 0)
			return p->mode[personal_keys[i].field];
	return PRIVACY_KEEP;
}

/*
 * privacy_apply: protect the personal values of the collected record. A
 * new value is appended to the arena and the field pointed at it; its
 * clean-up flags are cleared (the value now holds nothing that was
 * cleaned, and a replay of the protected text must give the same extras).
 * False when out of memory.
 */
bool
privacy_apply(RecordScratch *rs, const TransformPrivacy *p)
{
	char		hash[TRANSFORM_HASH_LEN + 1];

	for (size_t i = 0; i < rs->n_fields; i++)
	{
		RawField   *f = &rs->fields[i];
		const char *v = rs->arena.data + f->val_off;
		PrivacyMode m = personal_mode(p, rs->arena.data + f->key_off, f->key_len);

		if (m == PRIVACY_KEEP || f->kind == FK_NULL)
			continue;
		if (f->kind == FK_STRING && transform_is_placeholder(v, f->val_len))
			continue;			/* nothing personal in "" or "-" */
		if (m == PRIVACY_HASH && f->kind == FK_STRING && transform_is_protected(v, f->val_len))
			continue;			/* protected already (a replayed archive) */
		if (m == PRIVACY_HASH)
			transform_privacy_hash(p->key, p->key_len, v, f->val_len, hash);
		f->val_off = rs->arena.len;
		if (m == PRIVACY_HASH)
		{
			buf_append(&rs->arena, hash, TRANSFORM_HASH_LEN);
			f->kind = FK_STRING;
		}
		else
		{
			buf_append(&rs->arena, "null", 4);
			f->kind = FK_NULL;
		}
		f->val_len = rs->arena.len - f->val_off;
		f->cleaned = 0;
		f->is_protected = true;
	}
	return !rs->arena.failed;
}
