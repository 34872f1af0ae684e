/* The instruction forms pglab runs, one function each (see forms.h for
 * what each one outputs). form_invoke calls them with EAX..EDI = 0; they
 * leave their results in registers or form_mem, and restore anything they
 * change that the rest of the program relies on (flags, segments). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x23
#define SEL_TSS2 0x30
#define VEC_USER_INT 0x81
#define VEC_KERNEL_INT 0x82
#define EFLAGS_IF 0x200
#define CR4_UMIP 0x800
#define EFLAGS_IOPL 0x3000
#define LAR_ATTR_MASK 0x00ffff00
#define MSR_SYSENTER_CS 0x174
#define PORT_UART_SCRATCH 0x3ff
#define SCRATCH_VALUE 0x5a
#define CPUID_EBX_NONAPIC 0x0000ffff	/* leaf 1 EBX without APIC ID, CPU count */
#define HC_LAB_PROBE 0xffff		/* no such hypercall: -1000 under pgvisor */
#define UNBACKED_ADDR 0xc0000000	/* the PCI hole: no RAM, no device */

	.macro form name
	.globl form_\name
	.type form_\name, @function
form_\name:
	.endm

	.text
	.code32
/* --- Sensitive but unprivileged (Robin & Irvine 2000) --- */
form sgdt
	sgdt form_mem
	ret
form sidt
	sidt form_mem
	ret
form sldt
	sldt %ax
	ret
form str
	str %ax
	ret
form smsw
	smsw %ax		/* the 16-bit form: bits 15:0 of CR0 */
	ret
/* PUSHF shows IF and IOPL. */
form pushf
	pushfl
	popl %eax
	andl $(EFLAGS_IF | EFLAGS_IOPL), %eax
	ret
/* POPF setting IOPL to 3: done at CPL 0, silently ignored at CPL 3. */
form popf_iopl
	pushfl
	popl %ebx
	movl %ebx, %eax
	orl $EFLAGS_IOPL, %eax
	pushl %eax
	popfl
	pushfl
	popl %eax
	andl $EFLAGS_IOPL, %eax
	pushl %ebx
	popfl
	xorl %ebx, %ebx
	ret
/* POPF setting IF: done at CPL 0, silently ignored at CPL 3 (IOPL 0).
 * No interrupt source is unmasked, so IF = 1 for a moment is harmless. */
form popf_if
	pushfl
	popl %ebx
	movl %ebx, %eax
	orl $EFLAGS_IF, %eax
	pushl %eax
	popfl
	pushfl
	popl %eax
	andl $EFLAGS_IF, %eax
	pushl %ebx
	popfl
	xorl %ebx, %ebx
	ret
/* LAR/LSL/VERR/VERW of ring-0 segments: ZF = 1 only at CPL 0. */
form lar
	movl $SEL_KCODE, %ecx
	lar %ecx, %eax
	setz %bl
	andl $LAR_ATTR_MASK, %eax
	xorl %ecx, %ecx
	ret
form lsl
	movl $SEL_KDATA, %ecx
	lsl %ecx, %eax
	setz %bl
	xorl %ecx, %ecx
	ret
form verr
	movw $SEL_KDATA, %cx
	verr %cx
	setz %bl
	xorl %ecx, %ecx
	ret
form verw
	movw $SEL_KDATA, %cx
	verw %cx
	setz %bl
	xorl %ecx, %ecx
	ret
/* PUSH CS reveals the CPL in the selector's RPL. */
form push_cs
	pushl %cs
	popl %eax
	andl $0xffff, %eax
	ret
/* POP DS of the ring-0 data segment: #GP(selector) at CPL 3. */
form pop_ds
	pushl $SEL_KDATA
	popl %ds
	movw %ds, %ax
	movw %ss, %cx
	movw %cx, %ds
	xorl %ecx, %ecx
	ret
form mov_from_cs
	movw %cs, %ax
	ret
form mov_from_ss
	movw %ss, %ax
	ret
form mov_to_ds
	movw $SEL_KDATA, %cx
	movw %cx, %ds
	movw %ds, %ax
	movw %ss, %cx
	movw %cx, %ds
	xorl %ecx, %ecx
	ret
/* Far transfers to the ring-0 code segment: #GP(selector) at CPL 3. */
form far_call
	lcall $SEL_KCODE, $1f
	ret
1:	movl $1, %eax
	lret
form far_jmp
	ljmp $SEL_KCODE, $1f
1:	movl $1, %eax
	ret
form far_ret
	pushl $SEL_KCODE
	pushl $1f
	lret
1:	movl $1, %eax
	ret
/* INT n through a DPL-3 gate (allowed) and a DPL-0 gate (#GP at CPL 3). */
form int_user_gate
	int $VEC_USER_INT
	movl $1, %eax
	ret
form int_kernel_gate
	int $VEC_KERNEL_INT
	movl $1, %eax
	ret
/* IRET to the same level with IOPL 3 in the image: taken at CPL 0,
 * ignored at CPL 3. */
form iret
	pushfl
	popl %ebx
	movl %ebx, %eax
	orl $EFLAGS_IOPL, %eax
	pushl %eax
	pushl %cs
	pushl $1f
	iret
1:	pushfl
	popl %eax
	andl $EFLAGS_IOPL, %eax
	pushl %ebx
	popfl
	xorl %ebx, %ebx
	ret

/* The same with CR4.UMIP requested first (forms.h): #GP(0) at CPL 3
 * where UMIP is on (SDM Vol. 3 2.5), except SMSW under emulated UMIP. */
form sgdt_umip
	sgdt form_mem
	ret
form str_umip
	str %ax
	ret
form smsw_umip
	smsw %ax
	ret
/* Not in the table: how run_form turns CR4.UMIP on and off. */
form set_umip
	movl %cr4, %eax
	orl $CR4_UMIP, %eax
	movl %eax, %cr4
	ret
form clear_umip
	movl %cr4, %eax
	andl $~CR4_UMIP, %eax
	movl %eax, %cr4
	ret

/* --- Privileged: #GP(0) at CPL 3 --- */
form mov_from_cr0
	movl %cr0, %eax
	ret
form mov_to_cr0
	movl %cr0, %eax
	movl %eax, %cr0
	ret
form mov_from_cr3
	movl %cr3, %eax
	ret
form mov_to_cr3
	movl %cr3, %eax
	movl %eax, %cr3
	ret
form mov_from_cr4
	movl %cr4, %eax
	ret
form mov_to_cr4
	movl %cr4, %eax
	movl %eax, %cr4
	ret
/* CR8 has no encoding outside 64-bit mode; LOCK MOV CR0 is AMD's
 * alternative encoding and #UD on Intel. */
form mov_from_cr8
	.byte 0xf0, 0x0f, 0x20, 0xc0	/* lock mov %cr0, %eax */
	ret
form lmsw
	smsw %ax
	lmsw %ax
	ret
form clts
	clts
	ret
form lgdt
	sgdt form_mem
	lgdt form_mem
	ret
form lidt
	sidt form_mem
	lidt form_mem
	ret
form lldt
	sldt %ax
	lldt %ax
	ret
form ltr
	movw $SEL_TSS2, %ax
	ltr %ax
	str %ax
	ret
form rdmsr
	movl $MSR_SYSENTER_CS, %ecx
	rdmsr
	ret
form wrmsr
	movl $MSR_SYSENTER_CS, %ecx
	rdmsr
	wrmsr
	ret
form in_port
	movw $PORT_UART_SCRATCH, %dx
	inb %dx, %al
	ret
form out_port
	movw $PORT_UART_SCRATCH, %dx
	movb $SCRATCH_VALUE, %al
	outb %al, %dx
	ret
form ins
	movw $PORT_UART_SCRATCH, %dx
	movl $form_mem, %edi
	insb
	subl $form_mem, %edi
	ret
form outs
	movw $PORT_UART_SCRATCH, %dx
	movl $form_mem, %esi
	outsb
	subl $form_mem, %esi
	ret
form hlt
	hlt
	ret
form cli
	cli
	pushfl
	popl %eax
	andl $EFLAGS_IF, %eax
	ret
form sti
	sti
	pushfl
	cli
	popl %eax
	andl $EFLAGS_IF, %eax
	ret
form invlpg
	invlpg form_mem
	ret
form wbinvd
	wbinvd
	ret
form invd
	invd
	ret
form mov_from_dr7
	movl %dr7, %eax
	ret
form mov_to_dr0
	movl %dr0, %eax
	movl %eax, %dr0
	ret
form rdpmc
	xorl %ecx, %ecx
	rdpmc
	xorl %eax, %eax
	xorl %edx, %edx
	ret
form xsetbv
	xorl %ecx, %ecx
	xgetbv
	xsetbv
	ret
form monitor
	movl $form_mem, %eax
	xorl %ecx, %ecx
	xorl %edx, %edx
	monitor
	xorl %eax, %eax
	ret
form mwait
	xorl %eax, %eax
	xorl %ecx, %ecx
	mwait
	ret

/* --- Unprivileged, but VMX can make them exit --- */
form cpuid0
	xorl %eax, %eax
	cpuid
	ret
form cpuid1
	movl $1, %eax
	cpuid
	andl $CPUID_EBX_NONAPIC, %ebx
	ret
/* The TSC differs from run to run of anything but Bochs: only whether it
 * faults is recorded. */
form rdtsc
	rdtsc
	xorl %eax, %eax
	xorl %edx, %edx
	ret
form rdtscp
	rdtscp
	xorl %eax, %eax
	xorl %edx, %edx
	ret
form pause
	pause
	ret
form vmcall
	movl $HC_LAB_PROBE, %eax
	vmcall
	ret

/* --- Memory with nothing behind it --- */
/* A read in the PCI hole, outside the RAM of the machine (128 MiB bare)
 * and of the VM: all-ones on the bare machine, where nothing answers.
 * Under pgvisor an EPT violation (reason 48), emulated as all-ones with
 * the default on_unbacked = "ignore"; "crash" stops the VM there. */
form read_unbacked
	movl UNBACKED_ADDR, %eax
	ret
