/* The PC each VM sees: which virtual devices sit at which ports and
 * addresses, how their interrupt lines are wired (ISA IRQs to the 8259 pair
 * and the I/O APIC, the PIT's IRQ 0 on I/O APIC pin 2 as the MADT says),
 * and where interrupts between local APICs go. */
#ifndef PGVISOR_PLATFORM_H
#define PGVISOR_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

struct vm;
struct vcpu;
struct net_switch;
struct vlapic_ipi;

/* Registers every device of the VM on its port and MMIO buses. */
int platform_attach(struct vm *vm);
/* Host memory the VM's virtio devices take (their state, receive rings). */
size_t platform_device_bytes(const struct vm *vm);
/* Of that, their state: kept after platform_release with the VM
 * structure, for a restart and for the summary's counters. */
size_t platform_device_state_bytes(const struct vm *vm);
/* Frees that state: for a VM that never started (vm_create failed), which
 * the VM table does not keep. */
void platform_free_device_state(struct vm *vm);
/* Takes the VM's network ports off the switch and frees their rings
 * (the VM is destroyed). */
void platform_release(struct vm *vm);
/* A live migration's switch: each vif of vm (built with nics_later) takes
 * the port of the same vif of src, its MAC and the frames waiting in it,
 * on its bridge. 0, or -1 (a port was not where it should be). */
int platform_take_over_nics(struct vm *vm, struct vm *src);
/* Puts every device and vCPU interrupt controller in its power-on state
 * and starts the VM's clock (at each load, restarts included). */
int platform_reset(struct vm *vm);
/* The machine's one network switch, allocated on first use (NULL: out of
 * memory). */
struct net_switch *platform_switch(void);
/* Drives ISA interrupt line irq (0-15) or I/O APIC pin (16-23). */
void platform_set_irq(struct vm *vm, unsigned irq, bool level);
/* Makes the CPU that runs v look at it now (it was given something that
 * may end its HLT). */
void platform_wake_vcpu(struct vcpu *v);
/* An IPI from vCPU from, as if written to its ICR (paravirtual IPIs). */
void platform_send_ipi(struct vm *vm, struct vcpu *from, const struct vlapic_ipi *ipi);

#endif
