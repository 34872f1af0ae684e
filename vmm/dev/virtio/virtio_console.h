/* virtio-console (virtio 1.2, 5.3): a VM's second console, /dev/hvc0 in a
 * Linux guest. One port, no feature bits (no MULTIPORT, SIZE or
 * EMERG_WRITE): queue 0 is the receiveq (host to guest), queue 1 the
 * transmitq (guest to host).
 *
 * Transmit runs in the exit of the guest's notification: the bytes go into
 * a line buffer that prints whole lines on the host console as
 * "[vm-name] text", exactly as the UART's output does (vmm/dev/line_out.h);
 * a partial line is printed when the VM stops (virtio_console_flush).
 *
 * Receive: keys typed for the VM are handed over on the VM's own CPU
 * (vmm/console/console_input.c) by virtio_console_input, which keeps them
 * in a buffer of VIRTIO_CONSOLE_RX_BUF bytes and moves as many as fit into
 * the receive buffers the guest has posted; the rest waits for the guest's
 * next buffers (its notification of queue 0). Bytes that find the buffer
 * full are counted in stats.rx_dropped, and the first of a run of drops is
 * reported in one line. The console gets the keys only once the driver is
 * live and has posted receive buffers (virtio_console_reading); until then
 * they go to COM1. Everything is reset when the VM (re)starts. */
#ifndef PGVISOR_VIRTIO_CONSOLE_H
#define PGVISOR_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/line_out.h"
#include "vmm/dev/virtio/virtio_pci.h"

#define VIRTIO_CONSOLE_RX_BUF 4096 /* typed bytes kept until the guest reads */

struct virtio_console_stats {
	uint64_t tx_bytes;   /* written by the guest */
	uint64_t rx_bytes;   /* handed to the guest */
	uint64_t rx_dropped; /* typed while the buffer was full */
};

struct virtio_console {
	struct virtio_dev dev;
	struct line_out out;
	/* The driver has posted a receive buffer since the device was reset:
	 * from then on it takes the keyboard. */
	bool rx_posted;
	bool dropping; /* the last byte typed found the buffer full */
	uint8_t rx[VIRTIO_CONSOLE_RX_BUF];
	unsigned rx_head, rx_count;
	struct virtio_console_stats stats;
	struct virtq_req req;
};

/* Sets up a fresh device for the VM named vm_name whose RAM is ram. 0 or -1. */
int virtio_console_init(struct virtio_console *c, const char *vm_name, uint8_t *ram,
			uint64_t ram_size);
/* Whether typed keys should come here rather than to COM1: the driver is
 * live (DRIVER_OK, not in need of reset) and has posted receive buffers
 * since the device was reset. */
bool virtio_console_reading(struct virtio_console *c);
/* Keys typed for the guest (on the VM's CPU): buffered, then moved into
 * the guest's receive buffers as far as they go. */
void virtio_console_input(struct virtio_console *c, const uint8_t *bytes, unsigned len);
/* Prints whatever partial output line is pending (at VM stop, or when the
 * guest waits at a prompt). */
void virtio_console_flush(struct virtio_console *c);

/* The device's state-stream record (docs/STATE_STREAM.md): the
 * transport's state, then whether the driver has posted receive buffers
 * (it has the keyboard) and a run of dropped input was reported, the
 * typed bytes the guest has not read yet (oldest first) and the output
 * line not printed yet. A load refuses more bytes than the buffers hold. */
void virtio_console_save(const struct virtio_console *c, struct state_writer *w);
int virtio_console_load(struct virtio_console *c, struct state_reader *r);

#endif
