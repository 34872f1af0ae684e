/* Reading ELF executables for x86: ELF32 (EM_386) and ELF64 (EM_X86_64)
 * little-endian ET_EXEC files, as the System V gABI ("ELF header",
 * "Program header") describes them. Only the file structure is checked
 * here; where the segments may go in a VM is the loader's business. */
#ifndef PGVISOR_ELF_H
#define PGVISOR_ELF_H

#include <stddef.h>
#include <stdint.h>

/* e_ident */
#define ELF_MAG0 0x7f
#define ELF_MAG1 'E'
#define ELF_MAG2 'L'
#define ELF_MAG3 'F'
#define ELF_EI_CLASS 4
#define ELF_EI_DATA 5
#define ELF_EI_VERSION 6
#define ELF_CLASS32 1
#define ELF_CLASS64 2
#define ELF_DATA2LSB 1
#define ELF_EV_CURRENT 1

/* e_type */
#define ELF_ET_REL 1
#define ELF_ET_EXEC 2
#define ELF_ET_DYN 3
#define ELF_ET_CORE 4

/* e_machine */
#define ELF_EM_386 3
#define ELF_EM_ARM 40
#define ELF_EM_X86_64 62
#define ELF_EM_AARCH64 183

/* p_type */
#define ELF_PT_LOAD 1

/* Sizes of the headers of each class. */
#define ELF32_EHDR_SIZE 52
#define ELF64_EHDR_SIZE 64
#define ELF32_PHDR_SIZE 32
#define ELF64_PHDR_SIZE 56
#define ELF_PN_XNUM 0xffff /* e_phnum escape: real count in section 0 */

/* A validated ELF file: the header fields the loader needs. The program
 * header table [phoff, phoff + phnum * phentsize) lies within the file. */
struct elf_file {
	const uint8_t *data;
	size_t size;
	int is64;
	uint16_t machine;
	uint64_t entry;
	uint64_t phoff;
	uint16_t phentsize;
	uint16_t phnum;
};

/* One program header, widened to 64 bits whatever the class. */
struct elf_phdr {
	uint32_t type;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
};

/* Checks the ELF header and the program header table's bounds. On error
 * returns -1 with one line in err ("truncated: ...", "not an ELF file",
 * "wrong architecture: ...", "not an executable: ..."). */
int elf_open(const uint8_t *data, size_t size, struct elf_file *ef, char *err, size_t errlen);

/* Reads program header i (< ef->phnum) of a file elf_open accepted. */
void elf_read_phdr(const struct elf_file *ef, unsigned i, struct elf_phdr *ph);

const char *elf_machine_name(uint16_t machine);

#endif
