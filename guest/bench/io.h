/* guest/bench's streaming I/O figures under pgvisor (guest/bench/io.c). */
#ifndef GUEST_BENCH_IO_H
#define GUEST_BENCH_IO_H

/* Each returns 0, or 1 when the device was missing or misbehaved (the
 * reason is printed). cmdline holds the options. */
int run_disk(const char *cmdline);
int run_net_send(const char *cmdline);
int run_net_recv(const char *cmdline);

/* The NICs' receive-queue interrupt (MSI-X): nic_stub in irq_stubs.S
 * calls on_nic. */
#define BENCH_NIC_VECTOR 0x40
void on_nic(void);
void nic_stub(void);

#endif
