/* libFuzzer harness: a virtio-net NIC (vmm/dev/virtio/virtio_net.c, with
 * virtio_pci.c, virtqueue.c and pci_device.c) on the PCI host bridge, driven
 * by the guest of fuzz_pci.h, on an L2 switch (vmm/dev/net_switch.c) with a
 * peer port that sends it frames; time passes for the switch's ageing and
 * the NIC's timer. The first byte says whether frames reach the NIC
 * directly (its VM running on the sender's CPU) or through its ring.
 *
 * One step saves the NIC into its state-stream record (queues and the
 * frames waiting in its ring) and loads it into a freshly built NIC on a
 * fresh port, as a restore does; every state the guest and the peer can
 * bring it into must load (else abort), and the NIC runs on from there. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_io.h"
#include "tests/fuzz/fuzz_pci.h"
#include "vmm/dev/net_switch.h"
#include "vmm/dev/virtio/virtio_net.h"

#define BRIDGE "br0"
#define FRAME_LEN_SPAN (NET_FRAME_MAX + 16) /* a few bytes too long, now and then */

#define RECORD_MAX (128 * 1024)

enum step { STEP_PEER_SENDS = FUZZ_PCI_STEPS, STEP_TIME, STEP_SAVE_LOAD, STEPS };

static struct virtio_net net;
static bool direct;

static void nic_frames_waiting(void *ctx)
{
	(void)ctx;
	virtio_net_frames_waiting(&net);
}

static bool nic_deliver(void *ctx, const uint8_t *frame, size_t len)
{
	(void)ctx;
	return direct && virtio_net_deliver(&net, frame, len);
}

static void peer_frames_waiting(void *ctx)
{
	(void)ctx;
}

static const uint8_t nic_mac[6] = { 0x02, 0, 0, 0, 0, 1 };
static struct net_frame nic_ring[NET_PORT_RING_SLOTS];
static struct net_switch sw;
static struct net_port nic_port;
static struct vclock clock;

static void save_load(uint8_t *ram)
{
	static uint8_t rec[RECORD_MAX];
	struct pci_device keep = net.dev.pci;
	struct state_writer w;
	struct state_reader r;
	const char *why;

	state_writer_init(&w, rec, sizeof(rec), 0);
	virtio_net_save(&net, &w);
	if (w.overflow)
		abort();
	/* The destination's port: the same bridge and MAC, an empty ring. */
	net_switch_detach(&sw, &nic_port);
	if (net_switch_attach(&sw, &nic_port, BRIDGE, nic_mac, nic_ring, nic_frames_waiting, NULL,
			      &why) ||
	    virtio_net_init(&net, "fuzz", 0, &sw, &nic_port, &clock, ram, FUZZ_PCI_RAM_SIZE))
		abort();
	nic_port.deliver = nic_deliver;
	net.dev.pci.msi_send = keep.msi_send;
	net.dev.pci.intx_send = keep.intx_send;
	net.dev.pci.msi_ctx = keep.msi_ctx;
	net.dev.pci.slot = keep.slot;
	memcpy(net.dev.pci.cfg + PCI_CFG_BAR0, keep.cfg + PCI_CFG_BAR0, 4 * PCI_NUM_BARS);
	state_reader_init(&r, rec, w.len, 0);
	if (virtio_net_load(&net, &r))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 2 };
	static struct net_frame peer_ring[NET_PORT_RING_SLOTS];
	static struct net_port peer_port;
	static struct fuzz_pci f;
	static uint8_t frame[FRAME_LEN_SPAN];
	struct fuzz_in in = fuzz_in(data, size);
	const char *why;

	fuzz_now_ns = 0;
	clock = fuzz_clock;
	direct = fuzz_u8(&in) & 1;
	net_switch_init(&sw);
	if (net_switch_attach(&sw, &nic_port, BRIDGE, nic_mac, nic_ring, nic_frames_waiting, NULL,
			      &why) ||
	    net_switch_attach(&sw, &peer_port, BRIDGE, peer_mac, peer_ring, peer_frames_waiting,
			      NULL, &why))
		abort();
	nic_port.deliver = nic_deliver;
	f.ram = fuzz_guarded(FUZZ_PCI_RAM_SIZE);
	if (virtio_net_init(&net, "fuzz", 0, &sw, &nic_port, &clock, f.ram, FUZZ_PCI_RAM_SIZE) ||
	    fuzz_pci_init(&f, &net.dev.pci))
		abort();
	struct vtimer timer = virtio_net_timer(&net);
	while (in.left) {
		unsigned step = fuzz_u8(&in) % STEPS;
		if (step < FUZZ_PCI_STEPS) {
			fuzz_pci_step(&f, step, &in);
		} else if (step == STEP_PEER_SENDS) {
			unsigned len = fuzz_u16(&in) % FRAME_LEN_SPAN;
			for (unsigned i = 0; i < len; i++)
				frame[i] = fuzz_u8(&in);
			net_switch_send(&sw, &peer_port, frame, len, fuzz_now_ns);
		} else if (step == STEP_TIME) {
			fuzz_time_passes(&in, &timer);
		} else {
			save_load(f.ram);
		}
	}
	net_switch_detach(&sw, &peer_port);
	net_switch_detach(&sw, &nic_port);
	return 0;
}
