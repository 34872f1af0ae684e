/* The pgvisor hypercall ABI, shared by the hypervisor and guest programs.
 *
 * A guest issues VMCALL with the call number in EAX/RAX and up to three
 * arguments in EBX/RBX, ECX/RCX and EDX/RDX. The result comes back in
 * EAX/RAX; other registers are preserved. Negative results (as signed
 * values of the guest's operand size) are errors. Only CPL 0 may call:
 * VMCALL from CPL 3 returns HC_ERR_PERM, as it cannot be made to fault
 * in an unrestricted guest without emulating #UD. */
#ifndef PGVISOR_HYPERCALL_ABI_H
#define PGVISOR_HYPERCALL_ABI_H

#include <stdint.h>

/* CPUID leaf 0x40000000 returns this in EBX, ECX, EDX ("pgvisorpgvis"
 * as 12 bytes) and the highest hypervisor leaf in EAX. */
#define PGVISOR_CPUID_SIGNATURE_LEAF 0x40000000u
#define PGVISOR_CPUID_SIGNATURE "pgvisorpgvis"
/* EAX the TSC rate, EBX the local APIC timer's bus clock, in kHz (the
 * timing leaf VMware defined and several guests read). */
#define PGVISOR_CPUID_TIMING_LEAF 0x40000010u

#define HC_VERSION 0	  /* -> ABI version (HC_ABI_VERSION) */
#define HC_EXIT_COUNT 1	  /* rbx = basic exit reason -> the calling vCPU's count */
#define HC_CONSOLE_PUTC 2 /* rbx = character -> 0; the same path as COM1 */
/* rbx = guest-physical address, rcx = size (at least sizeof(struct
 * hc_exit_profile)) -> 0; writes the calling vCPU's exit profile since
 * the VM started there. It counts this HC_PROFILE_READ exit but not its
 * time: the difference of two reads covers what happened between them
 * plus one VMCALL. */
#define HC_PROFILE_READ 3
#define HC_ABI_VERSION 2

#define HC_PROFILE_VERSION 1
#define HC_PROFILE_REASONS 72 /* basic exit reasons 0..71 */
#define HC_PROFILE_TOP 8      /* most frequent I/O ports and MSRs */

/* Ticks are host TSC ticks. count/ticks are indexed by basic exit reason
 * (SDM Appendix C); ticks[r] is the hypervisor's time on exits of reason
 * r, from the exit to the next entry of the same vCPU; exits after which
 * the CPU switched to another vCPU are counted but not timed. */
struct hc_exit_profile {
	uint64_t version;
	uint64_t total_exits;
	uint64_t timed_exits; /* exits whose ticks were measured */
	uint64_t guest_ticks; /* time in the guest (entry to exit) */
	uint64_t root_ticks;  /* the sum of ticks[] */
	uint64_t count[HC_PROFILE_REASONS];
	uint64_t ticks[HC_PROFILE_REASONS];
	uint64_t timed[HC_PROFILE_REASONS]; /* how many of count[r] ticks[r] covers */
	uint32_t nports, nmsrs;
	uint32_t port[HC_PROFILE_TOP];
	uint32_t msr[HC_PROFILE_TOP];
	uint64_t port_count[HC_PROFILE_TOP];
	uint64_t msr_count[HC_PROFILE_TOP];
};
/* 32-bit guests align uint64_t to 4 bytes: the layout above has no gaps
 * either way. */
_Static_assert(sizeof(struct hc_exit_profile) == 1968, "one layout for 32- and 64-bit guests");

#define HC_ERR_UNKNOWN (-1000) /* no such hypercall */
#define HC_ERR_INVAL (-22)     /* argument out of range */
#define HC_ERR_PERM (-1)       /* called from CPL > 0 */

/* Ports with a fixed meaning for every guest. */
#define PORT_DEBUG_EXIT 0xf4	   /* QEMU isa-debug-exit: status = (v << 1) | 1 */
#define PORT_BOCHS_SHUTDOWN 0x8900 /* the bytes of "Shutdown" power off */
#define PORT_E9_CONSOLE 0xe9	   /* Bochs/QEMU debug console */

#endif
