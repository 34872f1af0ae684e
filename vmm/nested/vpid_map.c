#include "vmm/nested/vpid_map.h"

void vpid_map_reset(struct vpid_map *m)
{
	for (unsigned i = 0; i < VPID_MAP_ENTRIES; i++)
		m->e[i] = (struct vpid_map_entry){ .vpid12 = 0, .fresh = false, .last_use = 0 };
	m->clock = 0;
	m->on_cpu = false;
	m->fast = 0;
}

void vpid_map_stale_all(struct vpid_map *m)
{
	for (unsigned i = 0; i < VPID_MAP_ENTRIES; i++)
		m->e[i].fresh = false;
	m->fast = 0;
}

void vpid_map_stale(struct vpid_map *m, unsigned index)
{
	if (index >= VPID_MAP_ENTRIES)
		return;
	m->e[index].fresh = false;
	if (m->fast == m->e[index].vpid12)
		m->fast = 0;
}

bool vpid_map_move(struct vpid_map *m, unsigned cpu)
{
	if (m->on_cpu && m->cpu == cpu)
		return false;
	vpid_map_stale_all(m);
	m->cpu = cpu;
	m->on_cpu = true;
	return true;
}

int vpid_map_find(const struct vpid_map *m, uint16_t vpid12)
{
	if (!vpid12)
		return -1;
	for (unsigned i = 0; i < VPID_MAP_ENTRIES; i++)
		if (m->e[i].vpid12 == vpid12)
			return (int)i;
	return -1;
}

unsigned vpid_map_use(struct vpid_map *m, uint16_t vpid12, bool *flush)
{
	int found = vpid_map_find(m, vpid12);
	unsigned i;

	if (found >= 0) {
		i = (unsigned)found;
	} else {
		/* A free entry (last_use 0), else the least recently used. */
		i = 0;
		for (unsigned k = 1; k < VPID_MAP_ENTRIES && m->e[i].vpid12; k++)
			if (!m->e[k].vpid12 || m->e[k].last_use < m->e[i].last_use)
				i = k;
		if (m->e[i].vpid12)
			m->evictions++;
		m->e[i].vpid12 = vpid12;
		m->e[i].fresh = false; /* another VPID's translations, or none known */
	}
	*flush = !m->e[i].fresh;
	m->e[i].fresh = true;
	m->e[i].last_use = ++m->clock;
	m->fast = vpid12;
	return i;
}
