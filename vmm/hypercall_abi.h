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

/* CPUID leaf 0x40000000 returns this in EBX, ECX, EDX ("pgvisorpgvis"
 * as 12 bytes) and the highest hypervisor leaf in EAX. */
#define PGVISOR_CPUID_SIGNATURE_LEAF 0x40000000u
#define PGVISOR_CPUID_SIGNATURE "pgvisorpgvis"

#define HC_VERSION 0	  /* -> ABI version (HC_ABI_VERSION) */
#define HC_EXIT_COUNT 1	  /* rbx = basic exit reason -> this VM's count */
#define HC_CONSOLE_PUTC 2 /* rbx = character -> 0; the same path as COM1 */
#define HC_ABI_VERSION 1

#define HC_ERR_UNKNOWN (-1000) /* no such hypercall */
#define HC_ERR_INVAL (-22)     /* argument out of range */
#define HC_ERR_PERM (-1)       /* called from CPL > 0 */

/* Ports with a fixed meaning for every guest. */
#define PORT_DEBUG_EXIT 0xf4	   /* QEMU isa-debug-exit: status = (v << 1) | 1 */
#define PORT_BOCHS_SHUTDOWN 0x8900 /* the bytes of "Shutdown" power off */
#define PORT_E9_CONSOLE 0xe9	   /* Bochs/QEMU debug console */

#endif
