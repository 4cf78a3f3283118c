/*
 * site_rules.c - which tier a call site's requests go to: a direct-mapped
 * table of 256 cache-aligned 16-byte entries keyed by a hash of the site.
 *
 * An entry's key and tier share one 64-bit word (site << 16 | tier), read
 * with one relaxed load, so a reader never sees the tier of another site
 * torn into this one. A rule is used only after HAK_SITE_CONFIRM consistent
 * notes; one conflicting note resets it. The rule is a hint: the caller
 * still checks that the size fits the tier (a site such as a strdup wrapper
 * asks for every size).
 *
 * Owns: the table. Does not own: tier ids (the core's; 0..65534).
 */
#include "learn_internal.h"

typedef struct {
	_Atomic uint64_t key;   /* site << 16 | tier; 0: empty */
	_Atomic uint32_t count; /* consistent notes, saturating */
	uint32_t pad;
} __attribute__((aligned(16))) hak_site_rule_t;

_Static_assert(sizeof(hak_site_rule_t) == 16, "site rule entries are 16 bytes");
_Static_assert((HAK_SITE_RULES & (HAK_SITE_RULES - 1)) == 0, "site table size is a power of two");

static hak_site_rule_t site_table[HAK_SITE_RULES] __attribute__((aligned(64)));

static inline uint64_t site_key(uintptr_t site, int tier)
{
	return ((uint64_t)site << 16) | (uint16_t)tier;
}

int hak_learn_site_tier(uintptr_t site)
{
	const hak_site_rule_t *e = &site_table[hak_site_index(site)];
	uint64_t k = atomic_load_explicit(&e->key, memory_order_relaxed);
	if ((k >> 16) != ((uint64_t)site & 0xFFFFFFFFFFFFull) || k == 0)
		return -1;
	if (atomic_load_explicit(&e->count, memory_order_relaxed) < HAK_SITE_CONFIRM)
		return -1;
	return (int)(k & 0xFFFF);
}

void hak_learn_site_note(uintptr_t site, int tier)
{
	if (tier < 0 || tier >= 0xFFFF || site == 0)
		return;
	hak_site_rule_t *e = &site_table[hak_site_index(site)];
	uint64_t want = site_key(site, tier);
	if (atomic_load_explicit(&e->key, memory_order_relaxed) == want) {
		uint32_t c = atomic_load_explicit(&e->count, memory_order_relaxed);
		if (c < 0xFFFFFFFFu)
			atomic_store_explicit(&e->count, c + 1, memory_order_relaxed);
		return;
	}
	/* New site or a conflicting tier: start over (count first, so a reader
	 * never pairs the new key with the old confirmation). */
	atomic_store_explicit(&e->count, 0, memory_order_relaxed);
	atomic_store_explicit(&e->key, want, memory_order_release);
	atomic_store_explicit(&e->count, 1, memory_order_relaxed);
}

void hak_site_rules_reset(void)
{
	for (int i = 0; i < HAK_SITE_RULES; i++) {
		atomic_store_explicit(&site_table[i].key, 0, memory_order_relaxed);
		atomic_store_explicit(&site_table[i].count, 0, memory_order_relaxed);
	}
}

unsigned hak_site_rules_count(void)
{
	unsigned n = 0;
	for (int i = 0; i < HAK_SITE_RULES; i++)
		if (atomic_load_explicit(&site_table[i].key, memory_order_relaxed) != 0 &&
		    atomic_load_explicit(&site_table[i].count, memory_order_relaxed) >=
		        HAK_SITE_CONFIRM)
			n++;
	return n;
}
