/* Host console input, from the serial line and the PS/2 keyboard. Keys go
 * to one focused VM, kept for it (VM_INPUT_BYTES) until its COM1 (the
 * UART's receive FIFO) or its virtio console (config virtio_console = 1,
 * once the guest's driver is live and has posted receive buffers) takes
 * them. Pressing Ctrl-A three times moves the focus to the next VM, then
 * to the hypervisor's own command line (command_parse.h), then back to the
 * first VM — the convention of Xen's console. Fewer than three Ctrl-A
 * reach the guest as typed. */
#ifndef PGVISOR_CONSOLE_INPUT_H
#define PGVISOR_CONSOLE_INPUT_H

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */
#define CONSOLE_ESCAPE_COUNT 3

#include "boot/boot_info.h"
#include "vmm/vm/vcpu.h"

/* Announces where input goes. Call once the VMs exist; bi holds the
 * configs and files the create command starts VMs from. */
void console_input_init(const struct boot_info *bi);
/* Moves whatever the host UART has received to its destination. Cheap
 * when nothing arrived (one port read). Safe inside exit handlers. */
void console_input_poll(void);
/* Whether some input is read only when console_input_poll is called: the
 * control channel on COM2, or the PS/2 keyboard of a machine without a
 * serial line (COM1 has its interrupt or SERIAL_POLL_US). */
bool console_input_polled(void);
/* Runs a command line typed at the pgvisor prompt. Only between VM runs:
 * a command may destroy the VM whose exit is being handled. */
void console_input_run(void);
/* The CPU is about to idle: a prompt the focused VM printed without a
 * newline (it now waits for input) is shown rather than held back. */
void console_input_idle(void);
/* v's registers, asked for by info on another CPU; on v's CPU. */
void console_input_vcpu_info(struct vcpu *v);

#endif
