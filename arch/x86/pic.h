#ifndef PGVISOR_PIC_H
#define PGVISOR_PIC_H

/* Moves the legacy 8259 PICs off the exception vectors (to 0x20-0x2f) and
 * masks every line: the hypervisor uses the local APIC only, and a
 * spurious IRQ 7 must not look like exception 15. */
void pic_disable(void);

#endif
