/* Host console input. Keys typed on the hypervisor's console go to one
 * focused VM: to its COM1 (the UART's receive FIFO), or to its virtio
 * console (config virtio_console = 1) once the guest's driver for that is
 * live and has posted receive buffers. Pressing Ctrl-A three times moves
 * the focus to the next VM, then to the hypervisor's own command line
 * (help, list, pause, unpause, destroy), then back to the first VM — the
 * convention of Xen's console. Fewer than three Ctrl-A reach the guest as
 * typed. */
#ifndef PGVISOR_CONSOLE_INPUT_H
#define PGVISOR_CONSOLE_INPUT_H

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */
#define CONSOLE_ESCAPE_COUNT 3

/* Announces where input goes. Call once the VMs exist. */
void console_input_init(void);
/* Moves whatever the host UART has received to its destination. Cheap
 * when nothing arrived (one port read). Safe inside exit handlers. */
void console_input_poll(void);
/* Runs a command line typed at the pgvisor prompt. Only between VM runs:
 * a command may destroy the VM whose exit is being handled. */
void console_input_run(void);
/* The CPU is about to idle: a prompt the focused VM printed without a
 * newline (it now waits for input) is shown rather than held back. */
void console_input_idle(void);

#endif
