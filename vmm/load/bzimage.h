/* Linux bzImage loading through the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst, "64-bit Boot Protocol"): the
 * protected-mode kernel placed at its preferred address, the zero page
 * (struct boot_params) with the image's setup header, E820 map, command line
 * and initrd, and the identity-mapped long-mode state the kernel is entered
 * in. A pure function over byte buffers like image_load(), so the host unit
 * tests run it on corrupted headers.
 *
 * Guest-physical layout with bzimage_default_layout() (the kernel itself is
 * at its pref_address, 16 MiB for Debian's):
 *
 *   0x1000   GDT: null, null, __BOOT_CS 0x10, __BOOT_DS 0x18
 *   0x7000   zero page (struct boot_params, 4 KiB)
 *   0x9000   page tables: PML4, PDPT, 4 page directories of 2 MiB pages
 *            identity-mapping [0, 4 GiB) (0x9000-0xEFFF)
 *   0x20000  command line
 *   ACPI     the range the caller reserves for its tables (acpi_build.h),
 *            reported as reserved in the E820 map
 *   initrd   page-aligned, as high as initrd_addr_max, RAM and the ACPI
 *            range allow
 *
 * Linux reserves the first 1 MiB for itself (reserve_real_mode() in
 * arch/x86/realmode/init.c, since 5.13) and
 * copies the zero page and command line before it uses that memory, so the
 * low structures need no E820 reservation. */
#ifndef PGVISOR_BZIMAGE_H
#define PGVISOR_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/load/image.h"

#define BZIMAGE_GDT_GPA 0x1000ull
#define BZIMAGE_ZERO_PAGE_GPA 0x7000ull
#define BZIMAGE_PAGE_TABLES_GPA 0x9000ull
#define BZIMAGE_CMDLINE_GPA 0x20000ull

#define BZIMAGE_ZERO_PAGE_SIZE 0x1000ull
#define BZIMAGE_GDT_ENTRIES 4
#define BZIMAGE_GDT_SIZE (BZIMAGE_GDT_ENTRIES * 8ull)
/* The identity map: [0, 4 GiB) in 2 MiB pages, which every x86-64 CPU has
 * (1 GiB pages are optional): PML4, PDPT and one page directory per GiB. */
#define BZIMAGE_IDENT_MAP_END 0x100000000ull
#define BZIMAGE_PAGE_TABLE_PAGES 6
#define BZIMAGE_PAGE_TABLES_SIZE (BZIMAGE_PAGE_TABLE_PAGES * 0x1000ull)

/* Selectors of the GDT (boot.rst: "__BOOT_CS(0x10) and __BOOT_DS(0x18)"). */
#define BZIMAGE_BOOT_CS 0x10
#define BZIMAGE_BOOT_DS 0x18

/* Control registers for the entry (SDM Vol. 3A 2.5, 9.8.5). */
#define BZIMAGE_CR0 0x80000031ull /* PE | ET | NE | PG */
#define BZIMAGE_CR4 0x20ull	  /* PAE */
#define BZIMAGE_EFER 0x500ull	  /* LME | LMA */

/* Where the loader puts its structures in guest-physical memory. Each
 * region must be in available RAM of the VM's memory map (vmm/load/memmap.h) and
 * apart from the others and from the kernel. */
struct bzimage_layout {
	uint64_t gdt;	      /* BZIMAGE_GDT_SIZE bytes */
	uint64_t zero_page;   /* BZIMAGE_ZERO_PAGE_SIZE bytes */
	uint64_t page_tables; /* BZIMAGE_PAGE_TABLES_SIZE bytes, page-aligned */
	uint64_t cmdline;     /* strlen(cmdline) + 1 bytes */
	/* ACPI tables (acpi_build.h): [acpi_base, acpi_base + acpi_size) at
	 * or above 1 MiB, reserved in the E820 map and kept clear of the
	 * kernel and initrd; acpi_size 0 when none. */
	uint64_t acpi_base, acpi_size;
	uint64_t rsdp; /* boot_params.acpi_rsdp_addr; 0 when none */
};

/* The fixed low addresses above, and no ACPI tables. */
void bzimage_default_layout(struct bzimage_layout *layout);

/* The vCPU state at the 64-bit entry (boot.rst "64-bit Boot Protocol"):
 * long mode with cr0/cr4/efer, paging on through cr3, GDTR = gdt_base/
 * gdt_limit, CS = cs_sel (flat 64-bit code: base 0, L=1, VMX access
 * rights 0xa09b), DS/ES/SS = ds_sel (flat read/write data: 0xc093),
 * interrupts off (RFLAGS = 2), RSI = the zero page and the
 * other general registers 0. The kernel sets up its own stack. */
struct bzimage_entry {
	uint64_t rip; /* load address + 0x200 */
	uint64_t rsi; /* zero page */
	uint64_t cr0, cr3, cr4, efer;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t cs_sel, ds_sel;
	uint64_t kernel_addr; /* where the protected-mode kernel was put */
	uint64_t kernel_size; /* init_size: what it occupies while booting */
	uint64_t initrd_addr; /* 0 when no initrd */
	uint64_t initrd_size;
};

/* Whether the file starts like a Linux kernel (the "HdrS" setup header
 * signature at 0x202), to choose between bzimage_load() and image_load(). */
bool bzimage_probe(const uint8_t *data, size_t size);

/* Loads kernel (a bzImage with boot protocol 2.12 or later and a 64-bit
 * entry) into ram (zero-filled beforehand by the caller) with initrd (NULL
 * when none) and cmdline, builds the zero page, GDT and page tables where
 * layout says, and fills entry. On error returns -1 and writes one line
 * naming the cause ("truncated: ...", "not a Linux kernel image (no HdrS
 * signature)", "Linux boot protocol 2.xx is too old (need 2.12)", "not a
 * bzImage ...", "does not fit in N MiB of RAM: ...", ...) into err. Nothing
 * is written outside ram, and nothing at all on error. */
int bzimage_load(const struct image_file *kernel, const struct image_file *initrd,
		 const char *cmdline, struct guest_ram *ram, const struct bzimage_layout *layout,
		 struct bzimage_entry *entry, char *err, size_t errlen);

#endif
