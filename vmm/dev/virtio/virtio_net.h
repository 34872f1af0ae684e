/* virtio-net (virtio 1.2, 5.1): a VM's network interface on a bridge of
 * pgvisor's L2 switch (vmm/dev/net_switch.h). One receive and one transmit
 * queue; no offloads (no checksum, segmentation or control queue), so
 * every frame is at most NET_FRAME_MAX bytes; mergeable receive buffers.
 *
 * Transmit runs in the exit of the guest's notification: each frame goes
 * to the switch, which copies it into the receiving ports' rings. Receive
 * runs on this VM's own CPU: the switch's notify marks frames pending and
 * pokes the VM's time (vtime_poke), whose timer then fills the guest's
 * receive buffers from the port's ring. A guest that posts no receive
 * buffers keeps its frames in the ring until it overflows (counted by the
 * switch); nobody else waits for it. */
#ifndef PGVISOR_VIRTIO_NET_H
#define PGVISOR_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/net_switch.h"
#include "vmm/dev/vclock.h"
#include "vmm/dev/virtio/virtio_pci.h"

#define VIRTIO_NET_NAME_MAX 24

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1

struct virtio_net_stats {
	uint64_t tx_frames, tx_bytes, tx_errors; /* tx_errors: too short or long */
	uint64_t rx_frames, rx_bytes, rx_truncated;
};

struct virtio_net {
	struct virtio_dev dev;
	char name[VIRTIO_NET_NAME_MAX]; /* "virtio-net eth0" */
	struct net_switch *sw;
	struct net_port *port; /* on the switch; outlives resets */
	struct vclock *clock;  /* the VM's, for the switch's ageing */
	uint32_t rx_pending;   /* frames wait in the port's ring */
	struct virtio_net_stats stats;
	struct virtq_req req;
	struct virtq_req rx_first; /* a frame's first receive buffer */
	struct net_frame tx_frame; /* a frame gathered from several segments */
};

/* Sets up a fresh device for port (attached to sw with its MAC). */
int virtio_net_init(struct virtio_net *n, const char *vm_name, unsigned index,
		    struct net_switch *sw, struct net_port *port, struct vclock *clock,
		    uint8_t *ram, uint64_t ram_size);
/* The switch queued frames for this device (any CPU): marks them pending;
 * the caller then pokes the VM's time. */
void virtio_net_frames_waiting(struct virtio_net *n);
/* A frame from the switch straight into the guest's receive buffers,
 * when the caller knows the VM's CPU is this one and not in its guest
 * (the switch then needs no ring copy). False when the driver is not live
 * or has no buffer: the frame then goes to the ring. */
bool virtio_net_deliver(struct virtio_net *n, const uint8_t *frame, uint64_t len);
/* The vtimer through which the VM's CPU takes waiting frames. */
struct vtimer virtio_net_timer(struct virtio_net *n);

/* The device's state-stream record (docs/STATE_STREAM.md): the
 * transport's state (the MAC and link status are its device
 * configuration, checked against the destination's), then the frames that
 * wait in the port's ring for the guest, oldest first. Transmit and
 * receive complete within their exit or timer, so no chain is in flight.
 * Which bridge the port is on is the VM config's. A load refuses more
 * frames than the ring holds and a frame shorter than an Ethernet header
 * or longer than NET_FRAME_MAX; an accepted one puts the frames back into
 * the destination's port ring (net_port_requeue). Save runs on the VM's
 * CPU (the ring's only consumer); the switch may add frames meanwhile,
 * which the record then leaves out. */
void virtio_net_save(const struct virtio_net *n, struct state_writer *w);
int virtio_net_load(struct virtio_net *n, struct state_reader *r);

#endif
