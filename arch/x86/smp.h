/* Multiprocessor start-up: the CPUs the ACPI MADT lists are started with
 * INIT-SIPI-SIPI (SDM Vol. 3 9.4.4); each gets its GDT, TSS, stacks, LAPIC
 * and VMXON region. A CPU that does not answer or cannot run guests is
 * reported and left out. */
#ifndef PGVISOR_SMP_H
#define PGVISOR_SMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What to start, from the MADT; test hooks come from pgvisor's command
 * line: smp-test-hide=ID drops APIC ID from the MADT's list (firmware that
 * left a CPU out), smp-test-mute=ID sends that CPU INIT but no SIPI (a CPU
 * that never answers), smp-test-novtx=ID makes that CPU find no VT-x. */
struct smp_options {
	int64_t hide_apic_id;  /* -1: none */
	int64_t mute_apic_id;  /* -1: none */
	int64_t novtx_apic_id; /* -1: none */
};
void smp_parse_options(const char *cmdline, struct smp_options *o);

/* Starts the APs on the boot CPU, after memory, ACPI, the LAPIC, the TSC
 * and VMX are set up there. Returns how many CPUs are online (>= 1). Each
 * AP runs ap_prepare (VMXON: a caller above arch/ knows how), which fills
 * why and returns non-zero when the AP cannot run guests (it is then left
 * out), then waits until smp_release() and runs ap_work. */
unsigned smp_start_aps(const struct smp_options *o, int (*ap_prepare)(char *why, size_t len),
		       void (*ap_work)(void));
/* Lets the APs run ap_work. */
void smp_release(void);
/* The boot CPU waits until every AP returned from ap_work. */
void smp_wait_aps_done(void);
/* Wakes CPU index (from HLT, or out of its guest by an external-interrupt
 * exit) so that it looks at its run queue again. */
void smp_kick(unsigned index);
bool cpu_is_online(unsigned index);
unsigned smp_online_count(void);
/* The average of a few IPIs from the boot CPU to an idle AP: TSC ticks from
 * the ICR write to the AP's handler. 0 without APs. */
uint64_t smp_ipi_latency(void);

#endif
