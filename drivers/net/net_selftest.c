#include "drivers/net/net_selftest.h"

#include <string.h>

#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "drivers/net/netdev.h"

#define MS_PER_S 1000ull
#define LINK_WAIT_MS 2000 /* auto-negotiation takes a second or two */
#define FRAME_WAIT_MS 200 /* one frame out and back, emulators included */
/* The PHY may need time after loopback is set before frames come back
 * (QEMU's e1000 also refuses frames for 1 s after RCTL is written). */
#define SETTLE_MS 3000
#define ETH_ALEN 6
#define ETH_TYPE_OFF 12
#define ETH_HDR 14
#define ETH_TYPE_LOCAL 0x88b5 /* IEEE 802 local experimental ethertype 1 */
#define FRAME_MIN 60	      /* without FCS */
#define FRAME_MAX 1514
#define BUF_SIZE 2048
#define MAX_STRAY 16 /* other frames tolerated meanwhile (none in loopback) */

static uint64_t deadline(uint64_t ms)
{
	return rdtsc() + tsc_hz() / MS_PER_S * ms;
}

/* Frame i: to and from the NIC itself, a length that walks the whole
 * range, and a payload no two frames share. */
static size_t make_frame(const struct netdev *d, unsigned i, uint8_t *buf)
{
	size_t len = FRAME_MIN + (size_t)i * (FRAME_MAX - FRAME_MIN) / (NET_SELFTEST_FRAMES - 1);

	memcpy(buf, d->mac, ETH_ALEN);
	memcpy(buf + ETH_ALEN, d->mac, ETH_ALEN);
	buf[ETH_TYPE_OFF] = ETH_TYPE_LOCAL >> 8;
	buf[ETH_TYPE_OFF + 1] = (uint8_t)ETH_TYPE_LOCAL;
	for (size_t k = ETH_HDR; k < len; k++)
		buf[k] = (uint8_t)(i * 7 + k * 13);
	return len;
}

/* Sends frame i and waits for it; why says what went wrong. */
static bool loop_one(struct netdev *d, unsigned i, const char **why)
{
	static uint8_t out[BUF_SIZE], in[BUF_SIZE];
	size_t len = make_frame(d, i, out), got;
	uint64_t until = deadline(FRAME_WAIT_MS);
	unsigned stray = 0;

	while (netdev_transmit(d, out, len)) {
		if (rdtsc() > until) {
			*why = "the transmit ring stayed full";
			return false;
		}
		cpu_relax();
	}
	for (;;) {
		got = netdev_receive(d, in, sizeof(in));
		if (got == len && !memcmp(in, out, len))
			return true;
		if (got && ++stray > MAX_STRAY) {
			*why = "frames came back changed";
			return false;
		}
		if (!got && rdtsc() > until) {
			*why = "a frame did not come back";
			return false;
		}
		cpu_relax();
	}
}

static bool test_nic(struct netdev *d)
{
	static uint8_t junk[BUF_SIZE];
	uint64_t until = deadline(LINK_WAIT_MS);
	const char *why = NULL;
	unsigned ok = 0;
	bool link;

	while (!(link = netdev_link_up(d)) && rdtsc() < until)
		cpu_relax();
	if (netdev_set_loopback(d, true)) {
		why = "the PHY did not take loopback (MDIC)";
	} else {
		/* Frame 0 again and again until one comes back. */
		until = deadline(SETTLE_MS);
		while (!loop_one(d, 0, &why) && rdtsc() < until)
			;
		why = NULL;
		while (netdev_receive(d, junk, sizeof(junk)))
			; /* late copies, what came from the wire before */
		while (ok < NET_SELFTEST_FRAMES && loop_one(d, ok, &why))
			ok++;
		if (netdev_set_loopback(d, false) && !why)
			why = "the PHY did not leave loopback (MDIC)";
	}
	if (why) {
		kprintf("pgvisor: selftest: net %s: link %s, %u of %u frames looped back: %s: "
			"failed\n",
			d->name, link ? "up" : "down", ok, NET_SELFTEST_FRAMES, why);
		return false;
	}
	kprintf("pgvisor: selftest: net %s: link %s, %u frames looped back intact: passed\n",
		d->name, link ? "up" : "down", ok);
	return true;
}

bool net_selftest(void)
{
	bool passed = netdev_count() > 0;

	if (!passed)
		kprintf("pgvisor: selftest: net: no NIC to test: failed\n");
	for (unsigned i = 0; i < netdev_count(); i++)
		passed &= test_nic(netdev_get(i));
	return passed;
}
