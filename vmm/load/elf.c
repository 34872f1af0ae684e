/* ELF header and program header table checks (see elf.h). */
#include "vmm/load/elf.h"

#include <stdio.h>
#include <string.h>

#include "vmm/load/bytes.h"

const char *elf_machine_name(uint16_t machine)
{
	switch (machine) {
	case ELF_EM_386:
		return "i386";
	case ELF_EM_X86_64:
		return "x86-64";
	case ELF_EM_ARM:
		return "ARM";
	case ELF_EM_AARCH64:
		return "AArch64";
	default:
		return NULL;
	}
}

static int fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

static int wrong_arch(const uint8_t *d, char *err, size_t errlen)
{
	uint16_t machine = get_le16(d + 18); /* e_machine, same place in both classes */
	const char *name = elf_machine_name(machine);
	char what[48];

	if (d[ELF_EI_DATA] != ELF_DATA2LSB)
		snprintf(what, sizeof(what), "big-endian ELF");
	else if (name)
		snprintf(what, sizeof(what), "%s ELF%s", name,
			 d[ELF_EI_CLASS] == ELF_CLASS64 ? "64" : "32");
	else
		snprintf(what, sizeof(what), "ELF%s machine %u",
			 d[ELF_EI_CLASS] == ELF_CLASS64 ? "64" : "32", machine);
	if (err && errlen)
		snprintf(err, errlen, "wrong architecture: %s (expected x86 or x86-64)", what);
	return -1;
}

int elf_open(const uint8_t *d, size_t size, struct elf_file *ef, char *err, size_t errlen)
{
	static const uint8_t magic[4] = { ELF_MAG0, ELF_MAG1, ELF_MAG2, ELF_MAG3 };

	memset(ef, 0, sizeof(*ef));
	if (size < 4 || memcmp(d, magic, 4) != 0) {
		if (size < 4 && (size == 0 || memcmp(d, magic, size) == 0)) {
			if (err && errlen)
				snprintf(err, errlen,
					 "truncated: %zu bytes is too short for an ELF header",
					 size);
			return -1;
		}
		return fail(err, errlen, "not an ELF file");
	}
	if (size < ELF32_EHDR_SIZE) {
		if (err && errlen)
			snprintf(err, errlen, "truncated: %zu bytes is too short for an ELF header",
				 size);
		return -1;
	}
	uint8_t cls = d[ELF_EI_CLASS];
	if (cls != ELF_CLASS32 && cls != ELF_CLASS64) {
		if (err && errlen)
			snprintf(err, errlen, "not an ELF file: bad class %u", cls);
		return -1;
	}
	ef->is64 = cls == ELF_CLASS64;
	size_t ehsize = ef->is64 ? ELF64_EHDR_SIZE : ELF32_EHDR_SIZE;
	if (size < ehsize) {
		if (err && errlen)
			snprintf(err, errlen,
				 "truncated: %zu bytes is too short for an ELF64 header", size);
		return -1;
	}
	ef->machine = get_le16(d + 18);
	uint16_t want = ef->is64 ? ELF_EM_X86_64 : ELF_EM_386;
	if (d[ELF_EI_DATA] != ELF_DATA2LSB || ef->machine != want)
		return wrong_arch(d, err, errlen);
	if (d[ELF_EI_VERSION] != ELF_EV_CURRENT || get_le32(d + 20) != ELF_EV_CURRENT)
		return fail(err, errlen, "unsupported ELF version");

	uint16_t type = get_le16(d + 16);
	if (type == ELF_ET_DYN)
		return fail(err, errlen,
			    "not an executable: ELF shared object or position-independent "
			    "executable (ET_DYN); link with -no-pie at a fixed address");
	if (type == ELF_ET_REL)
		return fail(err, errlen, "not an executable: relocatable ELF object (ET_REL)");
	if (type != ELF_ET_EXEC) {
		if (err && errlen)
			snprintf(err, errlen, "not an executable: ELF type %u", type);
		return -1;
	}

	size_t min_phent;
	if (ef->is64) {
		ef->entry = get_le64(d + 24);
		ef->phoff = get_le64(d + 32);
		ef->phentsize = get_le16(d + 54);
		ef->phnum = get_le16(d + 56);
		min_phent = ELF64_PHDR_SIZE;
	} else {
		ef->entry = get_le32(d + 24);
		ef->phoff = get_le32(d + 28);
		ef->phentsize = get_le16(d + 42);
		ef->phnum = get_le16(d + 44);
		min_phent = ELF32_PHDR_SIZE;
	}
	if (ef->phnum == 0)
		return fail(err, errlen, "ELF file has no program headers");
	if (ef->phnum == ELF_PN_XNUM)
		return fail(err, errlen, "ELF file has too many program headers (PN_XNUM)");
	if (ef->phentsize < min_phent) {
		if (err && errlen)
			snprintf(err, errlen, "bad ELF program header size %u (expected %zu)",
				 ef->phentsize, min_phent);
		return -1;
	}
	/* phnum and phentsize are 16-bit: the product cannot overflow. */
	uint64_t table = (uint64_t)ef->phnum * ef->phentsize;
	if (!range_within(ef->phoff, table, size)) {
		if (err && errlen)
			snprintf(err, errlen,
				 "truncated: program headers at 0x%llx (%u x %u bytes) run past "
				 "the end of the file (0x%zx bytes)",
				 (unsigned long long)ef->phoff, ef->phnum, ef->phentsize, size);
		return -1;
	}
	ef->data = d;
	ef->size = size;
	return 0;
}

void elf_read_phdr(const struct elf_file *ef, unsigned i, struct elf_phdr *ph)
{
	const uint8_t *p = ef->data + ef->phoff + (uint64_t)i * ef->phentsize;

	ph->type = get_le32(p);
	if (ef->is64) {
		ph->offset = get_le64(p + 8);
		ph->vaddr = get_le64(p + 16);
		ph->paddr = get_le64(p + 24);
		ph->filesz = get_le64(p + 32);
		ph->memsz = get_le64(p + 40);
	} else {
		ph->offset = get_le32(p + 4);
		ph->vaddr = get_le32(p + 8);
		ph->paddr = get_le32(p + 12);
		ph->filesz = get_le32(p + 16);
		ph->memsz = get_le32(p + 20);
	}
}
