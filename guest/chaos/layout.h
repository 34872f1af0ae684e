/* The chaos guest's segment selectors and software vectors, shared by
 * entry.S and the C code. */
#ifndef GUEST_CHAOS_LAYOUT_H
#define GUEST_CHAOS_LAYOUT_H

#define KERNEL_CODE_SEL 0x08
#define KERNEL_DATA_SEL 0x10
#define USER_DATA_SEL (0x18 | 3)
#define USER_CODE_SEL (0x20 | 3)
#define TSS_SEL 0x28
#define GDT_BYTES 64

/* INT USER_DONE_VECTOR ends a CPL-3 operation; chaos_call reports a
 * SYSCALL as SYSCALL_VECTOR (past the 256 interrupt vectors). */
#define USER_DONE_VECTOR 0x80
#define SYSCALL_VECTOR 0x100

#endif
