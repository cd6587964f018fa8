/*
 * load/idset.c
 *   The set of response_ids a LOAD_FAST window has sent so far: a Bloom
 *   filter of a fixed 8 MiB (2^26 bits, 4 probes). It answers one question
 *   per record: "may this window already hold this identity?". A "no" is
 *   exact (the record can go straight to the final tables); a "yes" is an
 *   in-answer duplicate or, rarely, a false positive: either way the record
 *   goes to the staging tables and the merge at commit sorts it out, so a
 *   false "yes" costs a staged row, never a wrong one.
 *
 *   Memory is the same whatever the window's size, so that the loader's
 *   peak memory does not grow with the answer. False "yes" rates: about
 *   2e-10 at the API's 60000-record cap, 1e-6 at 540k records (a 256 MB
 *   answer), 1e-5 at 1M, 0.2% at 4M.
 *   In LOAD_MERGE the same filter tells whether the window may repeat an
 *   identity at all (when not, the merge skips counting them).
 *   Pure: never logs.
 */
#include <stdlib.h>
#include <string.h>

#include "load/load_int.h"

#define IDSET_LOG2_BITS 26
#define IDSET_BYTES ((size_t) 1 << (IDSET_LOG2_BITS - 3))
#define IDSET_PROBES 4

/* idset_mix: 64 well-spread bits of an id (the splitmix64 finalizer), so
 * that ids sharing their high bits (time-ordered ids share the second they
 * were answered in) still spread over the filter. */
static uint64_t
idset_mix(int64_t id)
{
	uint64_t	z = (uint64_t) id + UINT64_C(0x9E3779B97F4A7C15);

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/*
 * idset_add: add id; true when it may have been added before, false when
 * it is surely new. Without memory for the filter the answer is always
 * true, which keeps the load correct (every record is staged); s->failed
 * tells.
 */
bool
idset_add(IdSet *s, int64_t id)
{
	uint64_t	h = idset_mix(id);
	uint32_t	h1 = (uint32_t) h;
	uint32_t	h2 = (uint32_t) (h >> 32) | 1;
	const uint32_t mask = ((uint32_t) 1 << IDSET_LOG2_BITS) - 1;
	bool		seen = true;

	if (s->bits == NULL && !s->failed)
	{
		s->bits = calloc(IDSET_BYTES, 1);
		s->failed = (s->bits == NULL);
	}
	if (s->failed)
		return true;
	/* double hashing: probe i at h1 + i * h2 */
	for (uint32_t i = 0; i < IDSET_PROBES; i++)
	{
		uint32_t	bit = (h1 + i * h2) & mask;
		uint8_t		m = (uint8_t) (1u << (bit & 7));

		if ((s->bits[bit >> 3] & m) == 0)
		{
			seen = false;
			s->bits[bit >> 3] |= m;
		}
	}
	if (!seen)
		s->count++;
	return seen;
}

/* idset_reset: empty the set for the next window; keeps its memory. */
void
idset_reset(IdSet *s)
{
	if (s->bits != NULL && s->count > 0)
		memset(s->bits, 0, IDSET_BYTES);
	s->count = 0;
	s->failed = false;
}

/* idset_free: release the filter; s is an empty set afterwards. */
void
idset_free(IdSet *s)
{
	free(s->bits);
	memset(s, 0, sizeof(*s));
}
