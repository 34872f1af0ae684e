/* Unit tests for boot/efi_memmap.c: the UEFI memory map as boot_info sees
 * it after ExitBootServices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot/efi_memmap.h"

#define PAGE EFI_MEMMAP_PAGE_SIZE
#define MIB (1ull << 20)
/* OVMF and most firmware return 48-byte descriptors (spec: 40 + padding). */
#define WIDE_DESC 48
#define MAX_DESCS 160

static uint8_t map[MAX_DESCS * WIDE_DESC];
static size_t map_used;
static size_t desc_size;
static struct boot_info bi;

static void begin(size_t size)
{
	memset(map, 0xa5, sizeof(map)); /* padding must be ignored */
	map_used = 0;
	desc_size = size;
	memset(&bi, 0, sizeof(bi));
}

static void desc(uint32_t type, uint64_t base, uint64_t pages, uint64_t attribute)
{
	struct efi_memory_descriptor d = { type, 0, base, 0, pages, attribute };

	memcpy(map + map_used, &d, sizeof(d));
	map_used += desc_size;
}

static void assert_range(unsigned i, uint64_t base, uint64_t length, uint32_t type)
{
	assert_true(i < bi.nmem);
	assert_int_equal(bi.mem[i].base, base);
	assert_int_equal(bi.mem[i].length, length);
	assert_int_equal(bi.mem[i].type, type);
}

static void test_types(void **state)
{
	(void)state;
	assert_int_equal(efi_memmap_type(EFI_CONVENTIONAL_MEMORY, 0), MEM_USABLE);
	assert_int_equal(efi_memmap_type(EFI_BOOT_SERVICES_CODE, 0), MEM_USABLE);
	assert_int_equal(efi_memmap_type(EFI_BOOT_SERVICES_DATA, 0), MEM_USABLE);
	/* Loader memory: free; the hypervisor reserves what it still needs. */
	assert_int_equal(efi_memmap_type(EFI_LOADER_CODE, 0), MEM_USABLE);
	assert_int_equal(efi_memmap_type(EFI_LOADER_DATA, 0), MEM_USABLE);
	assert_int_equal(efi_memmap_type(EFI_RUNTIME_SERVICES_CODE, EFI_MEMMAP_RUNTIME),
			 MEM_RESERVED);
	assert_int_equal(efi_memmap_type(EFI_RUNTIME_SERVICES_DATA, EFI_MEMMAP_RUNTIME),
			 MEM_RESERVED);
	assert_int_equal(efi_memmap_type(EFI_ACPI_RECLAIM_MEMORY, 0), MEM_ACPI_RECLAIM);
	assert_int_equal(efi_memmap_type(EFI_ACPI_MEMORY_NVS, 0), MEM_ACPI_NVS);
	assert_int_equal(efi_memmap_type(EFI_UNUSABLE_MEMORY, 0), MEM_BAD);
	assert_int_equal(efi_memmap_type(EFI_MEMORY_MAPPED_IO, EFI_MEMMAP_RUNTIME), MEM_RESERVED);
	assert_int_equal(efi_memmap_type(EFI_MEMORY_MAPPED_IO_PORT_SPACE, 0), MEM_RESERVED);
	assert_int_equal(efi_memmap_type(EFI_PAL_CODE, 0), MEM_RESERVED);
	assert_int_equal(efi_memmap_type(EFI_PERSISTENT_MEMORY, 0), MEM_RESERVED);
	assert_int_equal(efi_memmap_type(EFI_RESERVED_MEMORY, 0), MEM_RESERVED);
	assert_int_equal(efi_memmap_type(0x70000000, 0), MEM_RESERVED); /* OEM type */
	/* Any range the firmware still uses at runtime stays untouched. */
	assert_int_equal(efi_memmap_type(EFI_CONVENTIONAL_MEMORY, EFI_MEMMAP_RUNTIME),
			 MEM_RESERVED);
}

/* A map shaped like OVMF's: boot services, loader and conventional memory
 * merge into usable RAM; ACPI and runtime ranges stay apart. */
static void test_ovmf_like_map(void **state)
{
	(void)state;
	begin(WIDE_DESC);
	desc(EFI_BOOT_SERVICES_CODE, 0, 1, 0);
	desc(EFI_CONVENTIONAL_MEMORY, PAGE, 159, 0);
	desc(EFI_CONVENTIONAL_MEMORY, MIB, 256, 0);
	desc(EFI_RESERVED_MEMORY, 2 * MIB, 512, 0);
	desc(EFI_LOADER_CODE, 4 * MIB, 128, 0);
	desc(EFI_LOADER_DATA, 4 * MIB + 128 * PAGE, 64, 0);
	desc(EFI_BOOT_SERVICES_DATA, 4 * MIB + 192 * PAGE, 64, 0);
	desc(EFI_CONVENTIONAL_MEMORY, 5 * MIB, 768, 0);
	desc(EFI_ACPI_RECLAIM_MEMORY, 8 * MIB, 16, 0);
	desc(EFI_ACPI_MEMORY_NVS, 8 * MIB + 16 * PAGE, 16, 0);
	desc(EFI_RUNTIME_SERVICES_DATA, 8 * MIB + 32 * PAGE, 8, EFI_MEMMAP_RUNTIME);
	desc(EFI_RUNTIME_SERVICES_CODE, 8 * MIB + 40 * PAGE, 8, EFI_MEMMAP_RUNTIME);
	desc(EFI_MEMORY_MAPPED_IO, 0xffc00000, 1024, EFI_MEMMAP_RUNTIME);
	assert_int_equal(efi_memmap_convert(map, map_used, desc_size, &bi), 0);
	assert_int_equal(bi.nmem, 8);
	assert_range(0, 0, 160 * PAGE, MEM_USABLE);
	assert_range(1, MIB, MIB, MEM_USABLE);
	assert_range(2, 2 * MIB, 2 * MIB, MEM_RESERVED);
	assert_range(3, 4 * MIB, 4 * MIB, MEM_USABLE);
	assert_range(4, 8 * MIB, 16 * PAGE, MEM_ACPI_RECLAIM);
	assert_range(5, 8 * MIB + 16 * PAGE, 16 * PAGE, MEM_ACPI_NVS);
	/* Runtime data and code merge into one reserved range. */
	assert_range(6, 8 * MIB + 32 * PAGE, 16 * PAGE, MEM_RESERVED);
	assert_range(7, 0xffc00000, 1024 * PAGE, MEM_RESERVED);
	assert_int_equal(bi.mem_dropped, 0);
}

static void test_runtime_and_mmio(void **state)
{
	(void)state;
	begin(WIDE_DESC);
	desc(EFI_RUNTIME_SERVICES_DATA, 0x7f000000, 8, EFI_MEMMAP_RUNTIME);
	desc(EFI_RUNTIME_SERVICES_CODE, 0x7f008000, 8, EFI_MEMMAP_RUNTIME);
	desc(EFI_MEMORY_MAPPED_IO, 0xffc00000, 1024, EFI_MEMMAP_RUNTIME);
	assert_int_equal(efi_memmap_convert(map, map_used, desc_size, &bi), 0);
	assert_int_equal(bi.nmem, 2);
	assert_range(0, 0x7f000000, 16 * PAGE, MEM_RESERVED);
	assert_range(1, 0xffc00000, 1024 * PAGE, MEM_RESERVED);
}

/* Descriptors are read at desc_size steps, never sizeof(descriptor). */
static void test_descriptor_size(void **state)
{
	static const size_t sizes[] = { sizeof(struct efi_memory_descriptor), WIDE_DESC, 64 };

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		begin(sizes[s]);
		desc(EFI_CONVENTIONAL_MEMORY, 0, 16, 0);
		desc(EFI_ACPI_RECLAIM_MEMORY, 16 * PAGE, 16, 0);
		desc(EFI_CONVENTIONAL_MEMORY, 32 * PAGE, 16, 0);
		assert_int_equal(efi_memmap_convert(map, map_used, desc_size, &bi), 0);
		assert_int_equal(bi.nmem, 3);
		assert_range(2, 32 * PAGE, 16 * PAGE, MEM_USABLE);
	}
	/* Smaller than the spec's descriptor: malformed. */
	begin(sizeof(struct efi_memory_descriptor) - 8);
	assert_int_equal(efi_memmap_convert(map, 64, desc_size, &bi), -1);
	/* A trailing partial descriptor is ignored. */
	begin(WIDE_DESC);
	desc(EFI_CONVENTIONAL_MEMORY, 0, 16, 0);
	assert_int_equal(efi_memmap_convert(map, map_used + 20, desc_size, &bi), 0);
	assert_int_equal(bi.nmem, 1);
}

/* A page count that runs past the top of the address space is cut at the
 * last page instead of wrapping around; zero pages is no range. */
static void test_page_count_overflow(void **state)
{
	(void)state;
	begin(WIDE_DESC);
	desc(EFI_CONVENTIONAL_MEMORY, 0x100000000ull, ~0ull, 0);
	desc(EFI_CONVENTIONAL_MEMORY, 0x1000, 0, 0);
	desc(EFI_RESERVED_MEMORY, ~0ull - 0xfff, 4, 0);
	assert_int_equal(efi_memmap_convert(map, map_used, desc_size, &bi), 0);
	assert_int_equal(bi.nmem, 1);
	assert_range(0, 0x100000000ull, (~0ull & ~0xfffull) - 0x100000000ull, MEM_USABLE);
	/* (1 << 52) pages would overflow a 64-bit byte count. */
	begin(WIDE_DESC);
	desc(EFI_CONVENTIONAL_MEMORY, 0, 1ull << 52, 0);
	assert_int_equal(efi_memmap_convert(map, map_used, desc_size, &bi), 0);
	assert_range(0, 0, ~0ull & ~0xfffull, MEM_USABLE);
}

/* Unsorted maps come out sorted and merged. */
static void test_unsorted(void **state)
{
	(void)state;
	begin(WIDE_DESC);
	desc(EFI_CONVENTIONAL_MEMORY, 64 * PAGE, 16, 0);
	desc(EFI_BOOT_SERVICES_DATA, 0, 32, 0);
	desc(EFI_CONVENTIONAL_MEMORY, 32 * PAGE, 32, 0);
	desc(EFI_RUNTIME_SERVICES_DATA, 96 * PAGE, 4, EFI_MEMMAP_RUNTIME);
	desc(EFI_LOADER_DATA, 80 * PAGE, 16, 0);
	assert_int_equal(efi_memmap_convert(map, map_used, desc_size, &bi), 0);
	assert_int_equal(bi.nmem, 2);
	assert_range(0, 0, 96 * PAGE, MEM_USABLE);
	assert_range(1, 96 * PAGE, 4 * PAGE, MEM_RESERVED);
}

/* More ranges than boot_info holds: the rest are counted, not written. */
static void test_too_many_ranges(void **state)
{
	(void)state;
	begin(WIDE_DESC);
	for (unsigned i = 0; i < BOOT_MAX_MEM_RANGES + 10; i++)
		desc(i % 2 ? EFI_ACPI_MEMORY_NVS : EFI_CONVENTIONAL_MEMORY, i * PAGE, 1, 0);
	assert_int_equal(efi_memmap_convert(map, map_used, desc_size, &bi), 0);
	assert_int_equal(bi.nmem, BOOT_MAX_MEM_RANGES);
	assert_int_equal(bi.mem_dropped, 10);
	assert_range(BOOT_MAX_MEM_RANGES - 1, (BOOT_MAX_MEM_RANGES - 1) * PAGE, PAGE, MEM_ACPI_NVS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_ovmf_like_map),
		cmocka_unit_test(test_runtime_and_mmio),
		cmocka_unit_test(test_descriptor_size),
		cmocka_unit_test(test_page_count_overflow),
		cmocka_unit_test(test_unsorted),
		cmocka_unit_test(test_too_many_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
