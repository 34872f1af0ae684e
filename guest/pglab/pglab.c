/* pglab: the Popek-Goldberg lab's sensitive-instruction suite. Boots bare
 * (GRUB) or as a pgvisor guest, runs every instruction form of forms.S at
 * CPL 0 and CPL 3, and prints one JSON object per form and CPL between
 * "pglab: begin" and "pglab: end": the fault (vector, error code) or none,
 * the form's defined outputs and, under pgvisor, the VM exits it caused
 * by basic reason (from HC_PROFILE_READ before and after the form, less
 * the second read's own VMCALL exit). scripts/lab turns the runs into
 * tables.
 *
 * With loop=N on its command line it runs a CPU-bound loop of N
 * iterations instead (an efficiency workload) and prints its checksum.
 * With only=NAME it runs just the form NAME (the lab's on_unbacked =
 * "crash" run: that form ends the VM). */
#include <stdbool.h>
#include <stdint.h>

#include "forms.h"
#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/cpu.h"
#include "guest/lib/idt.h"
#include "guest/lib/runtime.h"
#include "guest/lib/spin.h"
#include "guest/lib/string.h"
#include "lab.h"
#include "vmm/abi/hypercall_abi.h"

#define EXIT_UNEXPECTED_EXCEPTION 3
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define PIC_MASK_ALL 0xff

/* Segment descriptors (SDM Vol. 3 3.4.5): flat 4 GiB code/data at DPL 0
 * and 3; the TSS and LDT descriptors are built at run time. */
#define DESC_KCODE 0x00cf9a000000ffffull
#define DESC_KDATA 0x00cf92000000ffffull
#define DESC_UCODE 0x00cffa000000ffffull
#define DESC_UDATA 0x00cff2000000ffffull
#define DESC_TYPE_TSS32 0x9ull /* available; busy is 0xb */
#define DESC_TYPE_LDT 0x2ull
#define DESC_TYPE_SHIFT 40
#define DESC_PRESENT (1ull << 47)
#define DESC_TSS_BUSY (1ull << 41)

/* 32-bit paging with 4 MiB pages, identity-mapped, user-accessible
 * (SDM Vol. 3 4.3). */
#define PDE_ENTRIES 1024
#define PDE_PRESENT 0x1u
#define PDE_WRITE 0x2u
#define PDE_USER 0x4u
#define PDE_4MB 0x80u
#define PAGE_4MB_SHIFT 22
#define CR0_PG (1u << 31)
#define CR0_CD (1u << 30)
#define CR0_NW (1u << 29)
#define CR4_PSE (1u << 4)
#define CR4_OSXSAVE (1u << 18)
#define CPUID_1_ECX_XSAVE (1u << 26)

/* Exit reasons that come from outside the form (the host's timer and
 * interrupts, the VMX-preemption timer): not charged to it. */
#define EXIT_EXTERNAL_INTERRUPT 1
#define EXIT_INTERRUPT_WINDOW 7
#define EXIT_VMCALL 18
#define EXIT_PREEMPTION_TIMER 52

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt, iomap;
};

/* The stack as lab_asm.S leaves it for lab_trap. */
struct lab_frame {
	uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
	uint32_t es, ds, vector, error_code;
	uint32_t eip, cs, eflags;
};

const char program_name[] = "pglab";

void (*form_fn)(void);
struct form_regs form_out;
volatile uint32_t form_active;
volatile uint32_t form_vector, form_error;
uint8_t form_mem[16];

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint64_t ldt[1] __attribute__((aligned(8)));
static struct idt_gate idt[IDT_ENTRIES];
static struct tss32 tss;
static uint32_t page_dir[PDE_ENTRIES] __attribute__((aligned(4096)));
static uint8_t kernel_int_stack[8192] __attribute__((aligned(16)));
static struct hc_exit_profile prof_before, prof_after;

extern char form_fault_resume[];

void lab_trap(struct lab_frame *f);
void lab_trap(struct lab_frame *f)
{
	if (!form_active) {
		printf("\npglab: unexpected exception %u error 0x%x at eip 0x%x\n", f->vector,
		       f->error_code, f->eip);
		guest_exit(EXIT_UNEXPECTED_EXCEPTION);
	}
	form_active = 0;
	form_vector = f->vector;
	form_error = f->error_code;
	form_out = (struct form_regs){ f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->eflags };
	/* Resume at the CPL the form ran at: form_fault_resume restores the
	 * stack form_invoke had. */
	f->eip = (uint32_t)form_fault_resume;
}

static uint64_t system_descriptor(uint32_t base, uint32_t limit, uint64_t type)
{
	return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) |
	       (type << DESC_TYPE_SHIFT) | DESC_PRESENT | ((uint64_t)(limit >> 16 & 0xf) << 48) |
	       ((uint64_t)(base >> 24) << 56);
}

static void set_gate(unsigned vector, uint32_t handler, uint8_t type_attr)
{
	idt[vector] = idt_gate(handler, SEL_KCODE, type_attr);
}

static void load_tables(void)
{
	gdt[SEL_KCODE >> 3] = DESC_KCODE;
	gdt[SEL_KDATA >> 3] = DESC_KDATA;
	gdt[SEL_UCODE >> 3] = DESC_UCODE;
	gdt[SEL_UDATA >> 3] = DESC_UDATA;
	gdt[SEL_TSS >> 3] = system_descriptor((uint32_t)&tss, sizeof(tss) - 1, DESC_TYPE_TSS32);
	gdt[SEL_TSS2 >> 3] = gdt[SEL_TSS >> 3];
	gdt[SEL_LDT >> 3] = system_descriptor((uint32_t)ldt, sizeof(ldt) - 1, DESC_TYPE_LDT);
	ldt[0] = DESC_UDATA;
	tss.esp0 = (uint32_t)kernel_int_stack + sizeof(kernel_int_stack);
	tss.ss0 = SEL_KDATA;
	tss.iomap = sizeof(tss); /* no I/O bitmap: IN/OUT at CPL 3 need IOPL */

	struct table_register g = { sizeof(gdt) - 1, (uint32_t)gdt };
	__asm__ volatile("lgdt %0\n"
			 "ljmp %1, $1f\n"
			 "1: movw %w2, %%ax\n"
			 "movw %%ax, %%ds\n movw %%ax, %%es\n movw %%ax, %%ss\n"
			 "movw %%ax, %%fs\n movw %%ax, %%gs\n"
			 :
			 : "m"(g), "i"(SEL_KCODE), "i"(SEL_KDATA)
			 : "eax", "memory");
	__asm__ volatile("lldt %w0" : : "r"(SEL_LDT));

	for (unsigned v = 0; v < 32; v++)
		set_gate(v, lab_trap_stubs[v], IDT_INTERRUPT_GATE_32);
	set_gate(VEC_RETURN_TO_KERNEL, (uint32_t)lab_gate_return,
		 IDT_INTERRUPT_GATE_32 | IDT_GATE_DPL3);
	set_gate(VEC_USER_INT, (uint32_t)lab_gate_iret, IDT_INTERRUPT_GATE_32 | IDT_GATE_DPL3);
	set_gate(VEC_KERNEL_INT, (uint32_t)lab_gate_iret, IDT_INTERRUPT_GATE_32);
	struct table_register i = { sizeof(idt) - 1, (uint32_t)idt };
	__asm__ volatile("lidt %0" : : "m"(i));
}

/* Both TSS descriptors available again and TR = SEL_TSS: the LTR form
 * leaves SEL_TSS2 busy and loaded. */
static void reset_task_register(void)
{
	gdt[SEL_TSS >> 3] &= ~DESC_TSS_BUSY;
	gdt[SEL_TSS2 >> 3] &= ~DESC_TSS_BUSY;
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS) : "memory");
}

static void enable_paging(void)
{
	for (uint32_t i = 0; i < PDE_ENTRIES; i++)
		page_dir[i] = (i << PAGE_4MB_SHIFT) | PDE_PRESENT | PDE_WRITE | PDE_USER | PDE_4MB;
	uint32_t cr0, cr4;
	__asm__ volatile("movl %%cr4, %0" : "=r"(cr4));
	cr4 |= CR4_PSE;
	/* XSETBV needs CR4.OSXSAVE (SDM Vol. 2 XSETBV). */
	if (cpuid(1).ecx & CPUID_1_ECX_XSAVE)
		cr4 |= CR4_OSXSAVE;
	__asm__ volatile("movl %0, %%cr4" : : "r"(cr4));
	__asm__ volatile("movl %0, %%cr3" : : "r"((uint32_t)page_dir) : "memory");
	__asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
	/* Caches on: the firmware may leave CR0.CD/NW set, pgvisor starts a
	 * guest with them clear; the suite compares CR0, so start alike. */
	cr0 = (cr0 | CR0_PG) & ~(CR0_CD | CR0_NW);
	__asm__ volatile("movl %0, %%cr0" : : "r"(cr0) : "memory");
}

static const char *const class_names[] = {
	[CLASS_SENSITIVE_UNPRIVILEGED] = "sensitive-unprivileged",
	[CLASS_PRIVILEGED] = "privileged",
	[CLASS_UNPRIVILEGED] = "unprivileged",
};

static void print_outputs(const struct form *f)
{
	static const char *const reg_names[] = { "eax", "ebx", "ecx", "edx", "esi", "edi" };
	const uint32_t regs[] = { form_out.eax, form_out.ebx, form_out.ecx,
				  form_out.edx, form_out.esi, form_out.edi };

	for (unsigned r = 0; r < sizeof(regs) / sizeof(regs[0]); r++)
		if (f->outputs & (1u << r))
			printf(",\"%s\":\"0x%08x\"", reg_names[r], regs[r]);
	if (f->memlen) {
		printf(",\"mem\":\"");
		for (unsigned i = 0; i < f->memlen; i++)
			printf("%02x", form_mem[i]);
		printf("\"");
	}
}

/* The exits between the two profile reads, less the second read's own
 * VMCALL and the asynchronous ones. */
static void print_exits(void)
{
	bool first = true;

	printf(",\"exits\":{");
	for (unsigned r = 0; r < HC_PROFILE_REASONS; r++) {
		uint64_t n = prof_after.count[r] - prof_before.count[r];
		if (r == EXIT_VMCALL)
			n--;
		if (!n || r == EXIT_EXTERNAL_INTERRUPT || r == EXIT_INTERRUPT_WINDOW ||
		    r == EXIT_PREEMPTION_TIMER)
			continue;
		printf("%s\"%u\":%u", first ? "" : ",", r, (unsigned)n);
		first = false;
	}
	printf("}");
}

/* Runs a helper form at CPL 0: whether it completed without a fault. */
static bool run_helper(void (*fn)(void))
{
	form_fn = fn;
	form_vector = NO_FAULT;
	form_active = 1;
	form_invoke();
	form_active = 0;
	return form_vector == NO_FAULT;
}

/* CR4.UMIP may be set where CPUID.(EAX=7,ECX=0):ECX[2] says the CPU has
 * it (SDM Vol. 2A, CPUID); pgvisor's "umip" trap offers it emulated. */
#define CPUID_7_ECX_UMIP (1u << 2)
static bool umip_offered;

static bool cpu_offers_umip(void)
{
	return cpuid(0).eax >= 7 && (cpuid(7).ecx & CPUID_7_ECX_UMIP);
}

static void run_form(const struct form *f, unsigned cpl, bool pgvisor)
{
	printf("{\"form\":\"%s\",\"cpl\":%u,\"class\":\"%s\"", f->name, cpl, class_names[f->cls]);
	if (cpl == 0 && f->skip_cpl0) {
		printf(",\"skipped\":\"%s\"}\n", f->skip_cpl0);
		return;
	}
	reset_task_register();
	bool umip = f->umip && umip_offered && run_helper(form_set_umip);
	memset(form_mem, 0, sizeof(form_mem));
	memset(&form_out, 0, sizeof(form_out));
	form_vector = NO_FAULT;
	form_error = 0;
	form_fn = f->fn;
	if (pgvisor)
		hypercall(HC_PROFILE_READ, (uint32_t)&prof_before, sizeof(prof_before), 0);
	form_active = 1;
	if (cpl == 0)
		form_invoke();
	else
		lab_run_user(form_invoke);
	form_active = 0;
	if (pgvisor)
		hypercall(HC_PROFILE_READ, (uint32_t)&prof_after, sizeof(prof_after), 0);

	if (form_vector == NO_FAULT)
		printf(",\"fault\":null");
	else
		printf(",\"fault\":{\"vector\":%u,\"error\":%u}", form_vector, form_error);
	if (form_vector == NO_FAULT)
		print_outputs(f);
	if (pgvisor)
		print_exits();
	printf("}\n");
	if (umip)
		run_helper(form_clear_umip);
}

/* Whether a command-line value (up to a space or the end) is name. */
static bool option_is(const char *value, const char *name)
{
	size_t n = strlen(name);

	return strncmp(value, name, n) == 0 && (value[n] == ' ' || value[n] == '\0');
}

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;
	bool pgvisor = hypervisor_present();
	const char *only = NULL;

	if (boot_params_parse(magic, info, &bp) == 0) {
		only = cmdline_option(bp.cmdline, "only");
		const char *loop = cmdline_option(bp.cmdline, "loop");
		if (loop) {
			uint32_t n = parse_uint(loop);
			printf("{\"workload\":\"loop\",\"iterations\":%u,\"checksum\":\"0x%08x\"}"
			       "\n",
			       n, spin(n));
			return 0;
		}
	}

	/* POPF/STI forms set IF for a moment: keep every PIC line masked. */
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
	load_tables();
	enable_paging();
	umip_offered = cpu_offers_umip();
	printf("pglab: begin\n");
	printf("{\"pglab\":1,\"env\":\"%s\",\"forms\":%u,\"umip\":%s}\n",
	       pgvisor ? "pgvisor" : "bare", nforms, umip_offered ? "true" : "false");
	for (unsigned i = 0; i < nforms; i++)
		for (unsigned cpl = 0; cpl <= 3; cpl += 3)
			if (!only || option_is(only, forms[i].name))
				run_form(&forms[i], cpl, pgvisor);
	printf("pglab: end\n");
	return 0;
}
