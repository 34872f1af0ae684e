/* Unit tests for vmm/dev/pci_host.c: PCI configuration mechanism #1
 * through the I/O bus: the address register at 0xCF8, the data window at
 * 0xCFC-0xCFF with byte, word and dword accesses, the 440FX host bridge at
 * 00:00.0 and empty slots everywhere else, and Linux's probe sequences
 * (arch/x86/pci/direct.c: pci_check_type1, pci_check_type2,
 * pci_sanity_check, pci_conf1_read/write). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/pci_host.h"

#define CF8 0xcf8
#define CFC 0xcfc
#define ENABLE 0x80000000u

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_CLASS_BRIDGE_HOST 0x0600
#define PCI_CLASS_DISPLAY_VGA 0x0300
#define PCI_VENDOR_ID_INTEL 0x8086
#define PCI_VENDOR_ID_COMPAQ 0x0e11

static struct io_bus bus;
static struct mmio_bus mmio;
static struct pci_host pci;

static int setup(void **state)
{
	(void)state;
	memset(&bus, 0, sizeof(bus));
	memset(&mmio, 0, sizeof(mmio));
	pci_host_init(&pci);
	return pci_host_attach(&pci, &bus, &mmio);
}

static void outb(uint8_t v, uint16_t port)
{
	io_bus_write(&bus, port, 1, v);
}

static void outw(uint16_t v, uint16_t port)
{
	io_bus_write(&bus, port, 2, v);
}

static void outl(uint32_t v, uint16_t port)
{
	io_bus_write(&bus, port, 4, v);
}

static uint8_t inb(uint16_t port)
{
	return (uint8_t)io_bus_read(&bus, port, 1);
}

static uint16_t inw(uint16_t port)
{
	return (uint16_t)io_bus_read(&bus, port, 2);
}

static uint32_t inl(uint16_t port)
{
	return io_bus_read(&bus, port, 4);
}

/* Linux's PCI_CONF1_ADDRESS (without the AMD extended-register bits). */
static uint32_t conf1_address(unsigned busno, unsigned devfn, unsigned reg)
{
	return ENABLE | (busno << 16) | (devfn << 8) | (reg & 0xfc);
}

/* pci_conf1_read */
static uint32_t conf1_read(unsigned busno, unsigned devfn, unsigned reg, unsigned len)
{
	outl(conf1_address(busno, devfn, reg), CF8);
	switch (len) {
	case 1:
		return inb(CFC + (reg & 3));
	case 2:
		return inw(CFC + (reg & 2));
	default:
		return inl(CFC);
	}
}

/* pci_conf1_write */
static void conf1_write(unsigned busno, unsigned devfn, unsigned reg, unsigned len, uint32_t value)
{
	outl(conf1_address(busno, devfn, reg), CF8);
	switch (len) {
	case 1:
		outb((uint8_t)value, CFC + (reg & 3));
		break;
	case 2:
		outw((uint16_t)value, CFC + (reg & 2));
		break;
	default:
		outl(value, CFC);
		break;
	}
}

static void test_address_register(void **state)
{
	(void)state;
	assert_int_equal(inl(CF8), 0);
	outl(ENABLE, CF8);
	assert_int_equal(inl(CF8), ENABLE);
	/* Reserved bits 30-24 and the type bits 1-0 read as zero. */
	outl(0xffffffff, CF8);
	assert_int_equal(inl(CF8), 0x80fffffc);
	outl(0x12345678, CF8);
	assert_int_equal(inl(CF8), 0x00345678);
	outl(conf1_address(3, 0x2a, 0x44), CF8);
	assert_int_equal(inl(CF8), 0x80032a44);
}

static void test_byte_access_is_not_the_address(void **state)
{
	(void)state;
	outl(conf1_address(0, 0, PCI_CLASS_DEVICE), CF8);
	/* Narrow accesses at 0xCF8 address other chipset registers. */
	outb(0x00, CF8);
	outw(0x0000, CF8);
	assert_int_equal(inl(CF8), conf1_address(0, 0, PCI_CLASS_DEVICE));
	assert_int_equal(inb(CF8), 0xff);
	assert_int_equal(inw(CF8), 0xffff);
	/* 0xCF9-0xCFB are not the PCI host's (0xCF9 is the reset control). */
	assert_int_equal(io_bus_register(&bus, 0xcf9, 3, NULL, NULL, NULL, "reset"), 0);
	/* The data ports are. */
	assert_int_equal(io_bus_register(&bus, 0xcfc, 1, NULL, NULL, NULL, "x"), -1);
	assert_int_equal(io_bus_register(&bus, 0xcff, 1, NULL, NULL, NULL, "x"), -1);
	assert_int_equal(io_bus_register(&bus, 0xcf8, 1, NULL, NULL, NULL, "x"), -1);
	assert_int_equal(io_bus_register(&bus, 0xd00, 1, NULL, NULL, NULL, "x"), 0);
}

static void test_host_bridge_identity(void **state)
{
	(void)state;
	assert_int_equal(conf1_read(0, 0, PCI_VENDOR_ID, 4), 0x12378086);
	assert_int_equal(conf1_read(0, 0, PCI_VENDOR_ID, 2), PCI_VENDOR_ID_INTEL);
	assert_int_equal(conf1_read(0, 0, PCI_DEVICE_ID, 2), 0x1237);
	assert_int_equal(conf1_read(0, 0, PCI_VENDOR_ID, 1), 0x86);
	assert_int_equal(conf1_read(0, 0, PCI_VENDOR_ID + 1, 1), 0x80);
	assert_int_equal(conf1_read(0, 0, PCI_DEVICE_ID, 1), 0x37);
	assert_int_equal(conf1_read(0, 0, PCI_DEVICE_ID + 1, 1), 0x12);
	/* Class 06 (bridge), subclass 00 (host), prog-if 00, revision 02. */
	assert_int_equal(conf1_read(0, 0, PCI_REVISION_ID, 4), 0x06000002);
	assert_int_equal(conf1_read(0, 0, PCI_CLASS_DEVICE, 2), PCI_CLASS_BRIDGE_HOST);
	assert_int_equal(conf1_read(0, 0, PCI_CLASS_PROG, 1), 0x00);
	assert_int_equal(conf1_read(0, 0, PCI_CLASS_DEVICE + 1, 1), 0x06);
	/* Header type 0, single function. */
	assert_int_equal(conf1_read(0, 0, PCI_HEADER_TYPE, 1), 0x00);
	assert_int_equal(conf1_read(0, 0, PCI_CACHE_LINE_SIZE, 4), 0);
	/* Command: memory and bus master; status: fast back-to-back. */
	assert_int_equal(conf1_read(0, 0, PCI_COMMAND, 2), 0x0006);
	assert_int_equal(conf1_read(0, 0, PCI_STATUS, 2), 0x0080);
	assert_int_equal(conf1_read(0, 0, PCI_COMMAND, 4), 0x00800006);
	/* No BARs, no interrupt, nothing past the header. */
	for (unsigned reg = PCI_BASE_ADDRESS_0; reg < 0x100; reg += 4)
		assert_int_equal(conf1_read(0, 0, reg, 4), 0);
}

/* Every byte of the first dwords as bytes and words at each data port,
 * against the dword read. */
static void test_sizes_and_data_ports(void **state)
{
	(void)state;
	for (unsigned reg = 0; reg < 0x10; reg += 4) {
		uint32_t dword = conf1_read(0, 0, reg, 4);
		for (unsigned b = 0; b < 4; b++)
			assert_int_equal(conf1_read(0, 0, reg + b, 1), (dword >> (8 * b)) & 0xff);
		assert_int_equal(conf1_read(0, 0, reg, 2), dword & 0xffff);
		assert_int_equal(conf1_read(0, 0, reg + 2, 2), dword >> 16);
	}
	/* A word at 0xCFD straddles two registers' bytes. */
	outl(conf1_address(0, 0, 0), CF8);
	assert_int_equal(inw(CFC + 1), 0x3780);
	/* The offset comes from 0xCF8 bits 7-2 plus the port's low bits. */
	outl(conf1_address(0, 0, 0x08), CF8);
	assert_int_equal(inb(CFC + 3), 0x06);
	/* The last dword of the space reads (zero) without running over. */
	outl(conf1_address(0, 0, 0xfc), CF8);
	assert_int_equal(inl(CFC), 0);
	assert_int_equal(inl(CFC + 3) & 0xff, 0);
}

static void test_absent_functions(void **state)
{
	(void)state;
	static const unsigned where[][2] = {
		{ 0, 1 },    /* 00:00.1 */
		{ 0, 8 },    /* 00:01.0 */
		{ 0, 0xff }, /* 00:1f.7 */
		{ 1, 0 },    /* 01:00.0 */
		{ 0xff, 0 }, /* ff:00.0 */
	};
	for (unsigned i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		assert_int_equal(conf1_read(where[i][0], where[i][1], PCI_VENDOR_ID, 4),
				 0xffffffff);
		assert_int_equal(conf1_read(where[i][0], where[i][1], PCI_VENDOR_ID, 2), 0xffff);
		assert_int_equal(conf1_read(where[i][0], where[i][1], PCI_CLASS_DEVICE, 2), 0xffff);
		assert_int_equal(conf1_read(where[i][0], where[i][1], PCI_HEADER_TYPE, 1), 0xff);
		/* Writes there go nowhere (and do not reach the bridge). */
		conf1_write(where[i][0], where[i][1], PCI_COMMAND, 2, 0);
		conf1_write(where[i][0], where[i][1], PCI_LATENCY_TIMER, 1, 0x20);
	}
	assert_int_equal(conf1_read(0, 0, PCI_COMMAND, 2), 0x0006);
	assert_int_equal(conf1_read(0, 0, PCI_LATENCY_TIMER, 1), 0);
}

static void test_enable_bit_clear(void **state)
{
	(void)state;
	outl(0, CF8);
	assert_int_equal(inl(CFC), 0xffffffff);
	assert_int_equal(inw(CFC + 2), 0xffff);
	assert_int_equal(inb(CFC + 1), 0xff);
	outw(0, CFC + 0);
	outl(0, CFC);
	outl(PCI_COMMAND, CF8); /* register 4 of 00:00.0, not enabled */
	assert_int_equal(inl(CFC), 0xffffffff);
	outl(0, CFC);
	assert_int_equal(conf1_read(0, 0, PCI_COMMAND, 2), 0x0006);
}

static void test_writes(void **state)
{
	(void)state;
	/* Identity registers are read-only. */
	conf1_write(0, 0, PCI_VENDOR_ID, 4, 0);
	conf1_write(0, 0, PCI_REVISION_ID, 4, 0xffffffff);
	conf1_write(0, 0, PCI_HEADER_TYPE, 1, 0x80);
	conf1_write(0, 0, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	conf1_write(0, 0, PCI_INTERRUPT_LINE, 1, 0x0b);
	assert_int_equal(conf1_read(0, 0, PCI_VENDOR_ID, 4), 0x12378086);
	assert_int_equal(conf1_read(0, 0, PCI_REVISION_ID, 4), 0x06000002);
	assert_int_equal(conf1_read(0, 0, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(conf1_read(0, 0, PCI_BASE_ADDRESS_0, 4), 0);
	assert_int_equal(conf1_read(0, 0, PCI_INTERRUPT_LINE, 1), 0);

	/* The command register's memory and bus-master enables. */
	conf1_write(0, 0, PCI_COMMAND, 2, 0);
	assert_int_equal(conf1_read(0, 0, PCI_COMMAND, 2), 0);
	conf1_write(0, 0, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(conf1_read(0, 0, PCI_COMMAND, 2), 0x0006);
	conf1_write(0, 0, PCI_COMMAND, 1, 0x02);
	assert_int_equal(conf1_read(0, 0, PCI_COMMAND, 2), 0x0002);
	/* A dword write there leaves the status alone. */
	conf1_write(0, 0, PCI_COMMAND, 4, 0xffff0004);
	assert_int_equal(conf1_read(0, 0, PCI_COMMAND, 4), 0x00800004);

	/* The latency timer, by byte and within a dword write. */
	conf1_write(0, 0, PCI_LATENCY_TIMER, 1, 0x40);
	assert_int_equal(conf1_read(0, 0, PCI_LATENCY_TIMER, 1), 0x40);
	conf1_write(0, 0, PCI_CACHE_LINE_SIZE, 4, 0xffffffff);
	assert_int_equal(conf1_read(0, 0, PCI_CACHE_LINE_SIZE, 4), 0x0000ff00);
	conf1_write(0, 0, PCI_CACHE_LINE_SIZE, 2, 0x2010);
	assert_int_equal(conf1_read(0, 0, PCI_CACHE_LINE_SIZE, 4), 0x00002000);
}

/* pci_sanity_check(&pci_direct_conf1), without the DMI year shortcut. */
static bool linux_sanity_check(void)
{
	for (unsigned devfn = 0; devfn < 0x100; devfn++) {
		uint32_t x = conf1_read(0, devfn, PCI_CLASS_DEVICE, 2);
		if (x == PCI_CLASS_BRIDGE_HOST || x == PCI_CLASS_DISPLAY_VGA)
			return true;
		x = conf1_read(0, devfn, PCI_VENDOR_ID, 2);
		if (x == PCI_VENDOR_ID_INTEL || x == PCI_VENDOR_ID_COMPAQ)
			return true;
	}
	return false;
}

/* pci_check_type1 */
static bool linux_check_type1(void)
{
	bool works = false;

	outb(0x01, 0xcfb);
	uint32_t tmp = inl(CF8);
	outl(0x80000000, CF8);
	if (inl(CF8) == 0x80000000 && linux_sanity_check())
		works = true;
	outl(tmp, CF8);
	return works;
}

/* pci_check_type2 */
static bool linux_check_type2(void)
{
	outb(0x00, 0xcfb);
	outb(0x00, CF8);
	outb(0x00, 0xcfa);
	return inb(CF8) == 0x00 && inb(0xcfa) == 0x00;
}

static void test_linux_probe(void **state)
{
	(void)state;
	outl(0x80001234 & 0x80fffffc, CF8);
	assert_true(linux_check_type1());
	/* The saved address was put back. */
	assert_int_equal(inl(CF8), 0x80001234 & 0x80fffffc);
	assert_false(linux_check_type2());
	/* Type 1 still works after the type-2 probe's byte writes. */
	assert_true(linux_check_type1());

	/* What the scan of bus 0 then finds: one device, the host bridge. */
	unsigned found = 0;
	for (unsigned devfn = 0; devfn < 0x100; devfn++) {
		uint32_t id = conf1_read(0, devfn, PCI_VENDOR_ID, 4);
		if ((id & 0xffff) == 0xffff)
			continue;
		found++;
		assert_int_equal(devfn, 0);
		assert_int_equal(id, 0x12378086);
	}
	assert_int_equal(found, 1);
}

/* A function with a 4 KiB memory BAR and a 16-port I/O BAR whose reads
 * return the offset, so the test sees which BAR and offset an access hit. */
static unsigned last_bar;
static uint32_t last_write;

static uint64_t echo_read(struct pci_device *d, unsigned bar, uint32_t offset, unsigned size)
{
	(void)d;
	(void)size;
	last_bar = bar;
	return offset;
}

static void echo_write(struct pci_device *d, unsigned bar, uint32_t offset, unsigned size,
		       uint64_t value)
{
	(void)d;
	(void)size;
	last_bar = bar;
	last_write = offset ^ (uint32_t)value;
}

static const struct pci_device_ops echo_ops = { .bar_read = echo_read, .bar_write = echo_write };

static uint64_t mmio_read(uint64_t addr, unsigned size)
{
	const struct mmio_handler *h = mmio_bus_find(&mmio, addr);

	assert_non_null(h);
	return h->read(h->dev, addr, size);
}

static void test_device_on_the_bus(void **state)
{
	static struct pci_device d;
	(void)state;

	pci_device_init(&d, "echo", 0x1af4, 0x1042, 0x010000, 1, &echo_ops, NULL);
	assert_int_equal(pci_device_set_bar(&d, 0, PCI_BAR_MEM32, 0x1000, 0), 0);
	assert_int_equal(pci_device_set_bar(&d, 2, PCI_BAR_IO, 16, 0), 0);
	assert_int_equal(pci_host_add_device(&pci, &d), 1);
	/* Found at 00:01.0 with its BARs placed in the windows. */
	assert_int_equal(conf1_read(0, 1 << 3, PCI_VENDOR_ID, 4), 0x10421af4);
	assert_int_equal(conf1_read(0, 1 << 3, PCI_BASE_ADDRESS_0, 4), PCI_MMIO_BASE);
	assert_int_equal(conf1_read(0, 1 << 3, PCI_BASE_ADDRESS_0 + 8, 4), PCI_IO_BASE | 1);
	assert_int_equal(conf1_read(0, (1 << 3) | 1, PCI_VENDOR_ID, 4), 0xffffffff);
	/* Decoding is off until the command register enables it. */
	assert_int_equal(mmio_read(PCI_MMIO_BASE + 0x10, 4), 0xffffffff);
	assert_int_equal(inl(PCI_IO_BASE + 4), 0xffffffff);
	conf1_write(0, 1 << 3, PCI_COMMAND, 2, 0x3);
	assert_int_equal(mmio_read(PCI_MMIO_BASE + 0x10, 4), 0x10);
	assert_int_equal(last_bar, 0);
	assert_int_equal(inl(PCI_IO_BASE + 4), 4);
	assert_int_equal(last_bar, 2);
	outw(0x55, PCI_IO_BASE + 2);
	assert_int_equal(last_write, 2 ^ 0x55);
	/* An access running past the BAR's end reaches nobody. */
	assert_int_equal(mmio_read(PCI_MMIO_BASE + 0xffe, 4), 0xffffffff);
	/* The guest moves the BAR: the old place goes dark, the new decodes. */
	conf1_write(0, 1 << 3, PCI_BASE_ADDRESS_0, 4, PCI_MMIO_BASE + 0x100000);
	assert_int_equal(mmio_read(PCI_MMIO_BASE + 0x10, 4), 0xffffffff);
	assert_int_equal(mmio_read(PCI_MMIO_BASE + 0x100020, 4), 0x20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_address_register, setup),
		cmocka_unit_test_setup(test_byte_access_is_not_the_address, setup),
		cmocka_unit_test_setup(test_host_bridge_identity, setup),
		cmocka_unit_test_setup(test_sizes_and_data_ports, setup),
		cmocka_unit_test_setup(test_absent_functions, setup),
		cmocka_unit_test_setup(test_enable_bit_clear, setup),
		cmocka_unit_test_setup(test_writes, setup),
		cmocka_unit_test_setup(test_linux_probe, setup),
		cmocka_unit_test_setup(test_device_on_the_bus, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
