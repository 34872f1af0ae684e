#include "vmm/vm/exit_profile.h"

#include <string.h>

void profile_reset(struct exit_profile *p)
{
	memset(p, 0, sizeof(*p));
}

uint64_t profile_total(const struct exit_profile *p)
{
	uint64_t n = p->unusual;

	for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
		n += p->count[r];
	return n;
}

uint64_t profile_root_ticks(const struct exit_profile *p)
{
	uint64_t n = 0;

	for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
		n += p->ticks[r];
	return n;
}

static void add_key(struct key_counts *k, uint32_t key, uint64_t n)
{
	unsigned s = profile_key_slot(key);

	for (unsigned i = 0; i < PROFILE_KEY_PROBES; i++, s = (s + 1) & (PROFILE_KEY_SLOTS - 1)) {
		if (k->count[s] && k->key[s] != key)
			continue;
		k->key[s] = key;
		k->count[s] += n;
		return;
	}
	k->other += n;
}

void profile_count_key_slow(struct key_counts *k, uint32_t key)
{
	add_key(k, key, 1);
}

static void add_keys(struct key_counts *dst, const struct key_counts *src)
{
	for (unsigned s = 0; s < PROFILE_KEY_SLOTS; s++)
		if (src->count[s])
			add_key(dst, src->key[s], src->count[s]);
	dst->other += src->other;
}

void profile_add(struct exit_profile *dst, const struct exit_profile *src)
{
	dst->unusual += src->unusual;
	for (unsigned r = 0; r < EXIT_REASON_COUNT; r++) {
		dst->count[r] += src->count[r];
		dst->ticks[r] += src->ticks[r];
		dst->timed[r] += src->timed[r];
	}
	dst->guest_ticks += src->guest_ticks;
	add_keys(&dst->ports, &src->ports);
	add_keys(&dst->msrs, &src->msrs);
}

static int ranks_before(uint64_t ca, uint32_t ka, uint64_t cb, uint32_t kb)
{
	return ca > cb || (ca == cb && ka < kb);
}

unsigned profile_top_keys(const struct key_counts *k, uint32_t *keys, uint64_t *counts, unsigned n)
{
	unsigned have = 0;

	/* Insertion into a sorted list of at most n: n is small. */
	for (unsigned s = 0; s < PROFILE_KEY_SLOTS; s++) {
		if (!k->count[s])
			continue;
		unsigned at = have;
		while (at > 0 && ranks_before(k->count[s], k->key[s], counts[at - 1], keys[at - 1]))
			at--;
		if (at >= n)
			continue;
		for (unsigned j = (have < n ? have : n - 1); j > at; j--) {
			keys[j] = keys[j - 1];
			counts[j] = counts[j - 1];
		}
		keys[at] = k->key[s];
		counts[at] = k->count[s];
		if (have < n)
			have++;
	}
	return have;
}

void profile_export(const struct exit_profile *p, struct hc_exit_profile *out)
{
	memset(out, 0, sizeof(*out));
	out->version = HC_PROFILE_VERSION;
	out->total_exits = profile_total(p);
	out->guest_ticks = p->guest_ticks;
	out->root_ticks = profile_root_ticks(p);
	for (unsigned r = 0; r < EXIT_REASON_COUNT && r < HC_PROFILE_REASONS; r++) {
		out->count[r] = p->count[r];
		out->ticks[r] = p->ticks[r];
		out->timed[r] = p->timed[r];
		out->timed_exits += p->timed[r];
	}
	out->nports = profile_top_keys(&p->ports, out->port, out->port_count, HC_PROFILE_TOP);
	out->nmsrs = profile_top_keys(&p->msrs, out->msr, out->msr_count, HC_PROFILE_TOP);
}
