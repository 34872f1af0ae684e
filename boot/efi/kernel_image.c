#include "boot/efi/kernel_image.h"

#include <stdio.h>
#include <string.h>

#include "boot/efi/firmware.h"

#define EI_NIDENT 16
#define ELFCLASS64 2
#define ET_EXEC 2
#define EM_X86_64 62
#define PT_LOAD 1
#define PAGE_MASK (EFI_PAGE_SIZE - 1)

struct elf64_ehdr {
	uint8_t ident[EI_NIDENT];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

static const uint8_t elf_magic[] = { 0x7f, 'E', 'L', 'F', ELFCLASS64 };

EFI_STATUS kernel_image_load(char *err, UINTN errlen)
{
	const UINT8 *blob = kernel_elf;
	UINTN size = (UINTN)(kernel_elf_end - kernel_elf);
	const struct elf64_ehdr *eh = (const struct elf64_ehdr *)blob;
	/* Segments come sorted (ELF spec): one may start in the page the
	 * previous one ended in, which is already ours. */
	EFI_PHYSICAL_ADDRESS allocated_end = 0;

	if (size < sizeof(*eh) || memcmp(eh->ident, elf_magic, sizeof(elf_magic)) ||
	    eh->type != ET_EXEC || eh->machine != EM_X86_64 ||
	    eh->phentsize != sizeof(struct elf64_phdr) ||
	    eh->phoff + (uint64_t)eh->phnum * sizeof(struct elf64_phdr) > size) {
		snprintf(err, errlen, "the embedded hypervisor is not an x86-64 ELF executable");
		return EFI_LOAD_ERROR;
	}
	const struct elf64_phdr *ph = (const struct elf64_phdr *)(blob + eh->phoff);
	for (unsigned i = 0; i < eh->phnum; i++) {
		if (ph[i].type != PT_LOAD || !ph[i].memsz)
			continue;
		if (ph[i].filesz > ph[i].memsz || ph[i].offset + ph[i].filesz > size) {
			snprintf(err, errlen, "segment %u of the hypervisor is malformed", i);
			return EFI_LOAD_ERROR;
		}
		EFI_PHYSICAL_ADDRESS start = ph[i].paddr & ~PAGE_MASK;
		EFI_PHYSICAL_ADDRESS end = (ph[i].paddr + ph[i].memsz + PAGE_MASK) & ~PAGE_MASK;
		if (start < allocated_end)
			start = allocated_end;
		if (start < end) {
			EFI_STATUS st =
				efi_bs->AllocatePages(AllocateAddress, EfiLoaderCode,
						      (end - start) / EFI_PAGE_SIZE, &start);
			if (EFI_ERROR(st)) {
				snprintf(err, errlen,
					 "memory %#llx-%#llx for the hypervisor is not free: %s",
					 (unsigned long long)start, (unsigned long long)end,
					 efi_status_name(st));
				return st;
			}
			allocated_end = end;
		}
		memcpy((void *)ph[i].paddr, blob + ph[i].offset, ph[i].filesz);
		memset((void *)(ph[i].paddr + ph[i].filesz), 0, ph[i].memsz - ph[i].filesz);
	}
	return EFI_SUCCESS;
}
