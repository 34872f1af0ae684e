#include "vmm/vm/uplinks.h"

#include <string.h>

#include "arch/x86/cpu.h"
#include "arch/x86/muldiv.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "drivers/net/netdev.h"
#include "vmm/dev/net_uplink.h"
#include "vmm/vm/host_ip.h"
#include "vmm/vm/platform.h"

#define NS_PER_S 1000000000ull
#define RING_PAGES ((NET_PORT_RING_SLOTS * sizeof(struct net_frame) + PAGE_SIZE - 1) / PAGE_SIZE)

static struct net_uplink uplinks[NETDEV_MAX];
static char names[NETDEV_MAX][NET_BRIDGE_NAME_MAX];
static unsigned nuplinks;

/* Copies the token's field up to stop (':', ' ' or the end) into out;
 * false when empty or too long for cap. */
static bool field(const char **p, char stop, char *out, size_t cap)
{
	size_t n = 0;

	while ((*p)[n] && (*p)[n] != stop && (*p)[n] != ' ')
		n++;
	if (!n || n >= cap)
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return true;
}

static void attach(const char *bridge, const char *nic_name)
{
	struct netdev *nic = netdev_find(nic_name);
	struct net_switch *sw = platform_switch();
	struct net_uplink *u = &uplinks[nuplinks];
	struct net_frame *ring;
	const char *why = NULL;

	if (!nic) {
		kprintf("pgvisor: bridge %s: no NIC %s (pgvisor drives %u NIC%s)\n", bridge,
			nic_name, netdev_count(), netdev_count() == 1 ? "" : "s");
		return;
	}
	for (unsigned i = 0; i < nuplinks; i++) {
		if (uplinks[i].nic == nic) {
			kprintf("pgvisor: bridge %s: %s is already the uplink of bridge %s\n",
				bridge, nic_name, names[i]);
			return;
		}
		/* Two ways out of one bridge would loop frames between them. */
		if (!strcmp(names[i], bridge)) {
			kprintf("pgvisor: bridge %s: %s not attached: %s is its uplink\n", bridge,
				nic_name, uplinks[i].nic->name);
			return;
		}
	}
	ring = sw ? page_alloc(RING_PAGES) : NULL;
	if (!ring)
		why = "out of memory";
	else if (!net_uplink_attach(u, sw, bridge, nic, ring, &why)) {
		if (nic == host_ip_nic())
			u->take = host_ip_take;
		memcpy(names[nuplinks++], bridge, strlen(bridge) + 1);
		kprintf("pgvisor: bridge %s: uplink %s, link %s\n", bridge, nic_name,
			netdev_link_up(nic) ? "up" : "down");
		return;
	}
	if (ring)
		page_free(ring, RING_PAGES);
	kprintf("pgvisor: bridge %s: uplink %s not attached: %s\n", bridge, nic_name, why);
}

static int token_len(const char *p)
{
	const char *end = strchr(p, ' ');

	return (int)(end ? (size_t)(end - p) : strlen(p));
}

void uplinks_init(const char *cmdline)
{
	const size_t len = strlen(UPLINKS_OPTION);

	for (const char *p = cmdline; (p = strstr(p, UPLINKS_OPTION)); p += len) {
		char bridge[NET_BRIDGE_NAME_MAX], nic[NETDEV_NAME_MAX];
		const char *q = p + len;

		if (p != cmdline && p[-1] != ' ')
			continue; /* inside another option */
		if (!field(&q, ':', bridge, sizeof(bridge)) || *q++ != ':' ||
		    !field(&q, ' ', nic, sizeof(nic))) {
			kprintf("pgvisor: bridge: '%.*s' is not %sNAME:NIC (NAME up to %u "
				"characters)\n",
				token_len(p), p, UPLINKS_OPTION, NET_BRIDGE_NAME_MAX - 1);
			continue;
		}
		if (nuplinks == NETDEV_MAX) {
			kprintf("pgvisor: bridge %s: more than %u uplinks\n", bridge, NETDEV_MAX);
			continue;
		}
		attach(bridge, nic);
	}
}

void uplinks_check_used(void)
{
	for (unsigned i = 0; i < nuplinks; i++)
		if (net_switch_bridge_ports(uplinks[i].sw, names[i]) < 2)
			kprintf("pgvisor: bridge %s: no VM uses it: %s carries nothing\n", names[i],
				uplinks[i].nic->name);
}

bool uplinks_present(void)
{
	return nuplinks != 0 || host_ip_enabled();
}

void uplinks_poll(void)
{
	uint64_t now_ns;
	bool uplinked = false;

	if (!uplinks_present())
		return;
	now_ns = mul_div_u64(rdtsc(), NS_PER_S, tsc_hz());
	for (unsigned i = 0; i < nuplinks; i++) {
		net_uplink_poll(&uplinks[i], now_ns);
		uplinked |= uplinks[i].take != NULL;
	}
	host_ip_poll(now_ns, uplinked);
}
