/* Unit tests for vmm/dev/pci_device.c, vmm/dev/virtio/virtio_pci.c and
 * vmm/dev/virtio/virtio_blk.c together: the test is the guest's driver. It
 * sizes BARs through configuration space, walks the capability list to find
 * the virtio structures (virtio 1.2, 4.1.4), negotiates features, sets up
 * the request queue and MSI-X, and sends requests through a fake guest RAM;
 * it checks the data, the status byte, the interrupts and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/virtio/virtio_blk.h"

#define RAM_SIZE 0x20000
#define DISK_SIZE 0x10000
#define QSIZE 16
#define DESC_GPA 0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA 0x3000
#define HDR_GPA 0x4000
#define DATA_GPA 0x5000
#define STATUS_GPA 0x8000
#define MSI_ADDRESS 0xfee00000u
#define MSI_DATA_QUEUE 0x41
#define BAR0_BASE 0xe0000000u
#define BAR2_BASE 0xc000u

/* From the spec, not from the device code. */
#define COMMON_CFG 1
#define NOTIFY_CFG 2
#define DEVICE_CFG 4
#define PCI_CFG 5
#define CC_DRIVER_FEATURE_SELECT 0x08
#define CC_DRIVER_FEATURE 0x0c
#define CC_DEVICE_FEATURE_SELECT 0x00
#define CC_DEVICE_FEATURE 0x04
#define CC_STATUS 0x14
#define CC_QUEUE_SELECT 0x16
#define CC_QUEUE_SIZE 0x18
#define CC_QUEUE_MSIX 0x1a
#define CC_QUEUE_ENABLE 0x1c
#define CC_QUEUE_DESC 0x20
#define CC_QUEUE_DRIVER 0x28
#define CC_QUEUE_DEVICE 0x30
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64

static uint8_t *ram;
static uint8_t *disk;
static struct virtio_blk blk;
static unsigned msi_count;
static uint32_t msi_last_data;
static uint32_t common_off, notify_bar, device_off, pci_cfg_cap;
static char printed[512];
static uint16_t avail_idx;

/* The device's error lines go to the console. */
void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(printed, sizeof(printed), fmt, ap);
	va_end(ap);
}

static void msi_send(void *ctx, uint64_t address, uint32_t data)
{
	(void)ctx;
	assert_int_equal(address, MSI_ADDRESS);
	msi_count++;
	msi_last_data = data;
}

static unsigned intx_gsi;
static int intx_level = -1;

static void intx_send(void *ctx, unsigned gsi, bool level)
{
	(void)ctx;
	intx_gsi = gsi;
	intx_level = level;
}

static uint32_t cfg_read(unsigned off, unsigned size)
{
	return pci_device_config_read(&blk.dev.pci, off, size);
}

static void cfg_write(unsigned off, unsigned size, uint32_t v)
{
	pci_device_config_write(&blk.dev.pci, off, size, v);
}

static uint64_t common_read(unsigned off, unsigned size)
{
	return pci_device_bar_read(&blk.dev.pci, 0, common_off + off, size);
}

static void common_write(unsigned off, unsigned size, uint64_t v)
{
	pci_device_bar_write(&blk.dev.pci, 0, common_off + off, size, v);
}

/* Finds the virtio capabilities as a driver does: the list from 0x34. */
static void find_caps(void)
{
	unsigned at = cfg_read(0x34, 1);
	unsigned seen = 0;

	common_off = notify_bar = device_off = pci_cfg_cap = ~0u;
	while (at && seen++ < 16) {
		if (cfg_read(at, 1) == 0x09) {
			unsigned type = cfg_read(at + 3, 1);
			if (type == COMMON_CFG)
				common_off = cfg_read(at + 8, 4);
			else if (type == NOTIFY_CFG)
				notify_bar = cfg_read(at + 4, 1);
			else if (type == DEVICE_CFG)
				device_off = cfg_read(at + 8, 4);
			else if (type == PCI_CFG)
				pci_cfg_cap = at;
		}
		at = cfg_read(at + 1, 1);
	}
}

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM_SIZE);
	disk = malloc(DISK_SIZE);
	for (unsigned i = 0; i < DISK_SIZE; i++)
		disk[i] = (uint8_t)(i * 7 + i / 512);
	msi_count = 0;
	avail_idx = 0;
	printed[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	free(disk);
	return 0;
}

/* Brings the device up over store as Linux's virtio_pci does; rw selects a
 * writable disk. Returns the features the device offered. */
static uint64_t bring_up_store(const struct virtio_blk_store *store, bool writable)
{
	uint64_t offered;

	assert_int_equal(virtio_blk_init(&blk, "vm1", "vda", store, writable, ram, RAM_SIZE), 0);
	blk.dev.pci.msi_send = msi_send;
	assert_int_equal(pci_device_set_bar(&blk.dev.pci, 0, PCI_BAR_MEM32, 0x4000, BAR0_BASE), 0);
	assert_int_equal(pci_device_set_bar(&blk.dev.pci, 2, PCI_BAR_IO, 4, BAR2_BASE), 0);
	cfg_write(0x04, 2, 0x7); /* I/O, memory, bus master */
	find_caps();
	assert_int_equal(common_off, 0x0000);
	assert_int_equal(notify_bar, 2);
	common_write(CC_STATUS, 1, 0);
	common_write(CC_STATUS, 1, S_ACK | S_DRIVER);
	common_write(CC_DEVICE_FEATURE_SELECT, 4, 0);
	offered = common_read(CC_DEVICE_FEATURE, 4);
	common_write(CC_DEVICE_FEATURE_SELECT, 4, 1);
	offered |= common_read(CC_DEVICE_FEATURE, 4) << 32;
	/* Accept what was offered but EVENT_IDX (plain notifications). */
	uint64_t accept = offered & ~(1ull << VIRTIO_F_RING_EVENT_IDX);
	common_write(CC_DRIVER_FEATURE_SELECT, 4, 0);
	common_write(CC_DRIVER_FEATURE, 4, (uint32_t)accept);
	common_write(CC_DRIVER_FEATURE_SELECT, 4, 1);
	common_write(CC_DRIVER_FEATURE, 4, (uint32_t)(accept >> 32));
	common_write(CC_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK);
	assert_true(common_read(CC_STATUS, 1) & S_FEATURES_OK);
	/* MSI-X: enable, one unmasked entry for vector 1 (the queue's). */
	uint8_t cap = blk.dev.pci.msix.cap;
	pci_device_bar_write(&blk.dev.pci, 0, 0x3000 + 16 * 1 + 0, 4, MSI_ADDRESS);
	pci_device_bar_write(&blk.dev.pci, 0, 0x3000 + 16 * 1 + 8, 4, MSI_DATA_QUEUE);
	pci_device_bar_write(&blk.dev.pci, 0, 0x3000 + 16 * 1 + 12, 4, 0);
	cfg_write(cap + 2, 2, 0x8000 | cfg_read(cap + 2, 2));
	common_write(CC_QUEUE_SELECT, 2, 0);
	common_write(CC_QUEUE_SIZE, 2, QSIZE);
	common_write(CC_QUEUE_MSIX, 2, 1);
	assert_int_equal(common_read(CC_QUEUE_MSIX, 2), 1);
	common_write(CC_QUEUE_DESC, 4, DESC_GPA);
	common_write(CC_QUEUE_DESC + 4, 4, 0);
	common_write(CC_QUEUE_DRIVER, 8, AVAIL_GPA);
	common_write(CC_QUEUE_DEVICE, 4, USED_GPA);
	common_write(CC_QUEUE_ENABLE, 2, 1);
	common_write(CC_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	assert_int_equal(common_read(CC_STATUS, 1), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return offered;
}

/* Over the image disk[]. */
static uint64_t bring_up(bool writable)
{
	struct virtio_blk_store store = { .image = disk, .size = DISK_SIZE };

	return bring_up_store(&store, writable);
}

static void put_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = ram + DESC_GPA + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Posts header, data, status as descriptors 0-2 and notifies. */
static void request(uint32_t type, uint64_t sector, uint32_t data_len, bool data_writable)
{
	uint16_t head = 0;

	memcpy(ram + HDR_GPA, &type, 4);
	memset(ram + HDR_GPA + 4, 0, 4);
	memcpy(ram + HDR_GPA + 8, &sector, 8);
	ram[STATUS_GPA] = 0xee;
	put_desc(0, HDR_GPA, 16, 1, 1);
	if (data_len)
		put_desc(1, DATA_GPA, data_len, 1 | (data_writable ? 2 : 0), 2);
	else
		put_desc(0, HDR_GPA, 16, 1, 2);
	put_desc(2, STATUS_GPA, 1, 2, 0);
	memcpy(ram + AVAIL_GPA + 4 + 2 * (avail_idx % QSIZE), &head, 2);
	avail_idx++;
	memcpy(ram + AVAIL_GPA + 2, &avail_idx, 2);
	/* The notification: the queue's index written to BAR 2. */
	pci_device_bar_write(&blk.dev.pci, notify_bar, 0, 2, 0);
}

static uint16_t used_idx(void)
{
	uint16_t idx;

	memcpy(&idx, ram + USED_GPA + 2, 2);
	return idx;
}

static void test_config_space_and_bar_sizing(void **state)
{
	(void)state;
	bring_up(true);
	assert_int_equal(cfg_read(0x00, 2), 0x1af4);
	assert_int_equal(cfg_read(0x02, 2), 0x1042);
	assert_true(cfg_read(0x08, 1) >= 1); /* a modern-only device */
	assert_true(cfg_read(0x06, 2) & 0x10);
	/* Sizing BAR 0 (16 KiB memory) and BAR 2 (4 bytes of I/O). */
	cfg_write(0x10, 4, 0xffffffff);
	assert_int_equal(cfg_read(0x10, 4), 0xffffc000);
	cfg_write(0x10, 4, BAR0_BASE);
	assert_int_equal(cfg_read(0x10, 4), BAR0_BASE);
	cfg_write(0x18, 4, 0xffffffff);
	assert_int_equal(cfg_read(0x18, 4), 0xfffffffd);
	/* Read-only fields stay: the vendor ID, the capability pointer. */
	cfg_write(0x00, 4, 0);
	cfg_write(0x34, 1, 0);
	assert_int_equal(cfg_read(0x00, 2), 0x1af4);
	assert_int_not_equal(cfg_read(0x34, 1), 0);
	/* The device configuration: capacity in sectors, then blk_size. */
	assert_int_equal(pci_device_bar_read(&blk.dev.pci, 0, device_off, 8), DISK_SIZE / 512);
	assert_int_equal(pci_device_bar_read(&blk.dev.pci, 0, device_off + 20, 4), 512);
	/* Out-of-range config accesses read all ones, write nothing. */
	assert_int_equal(cfg_read(0x100, 4), 0xffffffff);
}

static void test_read_request(void **state)
{
	(void)state;
	bring_up(true);
	request(VIRTIO_BLK_T_IN, 3, 1024, true);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_OK);
	assert_memory_equal(ram + DATA_GPA, disk + 3 * 512, 1024);
	uint32_t len;
	memcpy(&len, ram + USED_GPA + 4 + 4, 4);
	assert_int_equal(len, 1025); /* the data and the status byte */
	assert_int_equal(msi_count, 1);
	assert_int_equal(msi_last_data, MSI_DATA_QUEUE);
	assert_int_equal(blk.stats.reads, 1);
}

static void test_write_then_read_back(void **state)
{
	(void)state;
	bring_up(true);
	memset(ram + DATA_GPA, 0x5a, 512);
	request(VIRTIO_BLK_T_OUT, 7, 512, false);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(disk[7 * 512 + i], 0x5a);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, false);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_OK);
	assert_int_equal(blk.stats.flushes, 1);
}

static void test_read_only_disk_refuses_writes(void **state)
{
	(void)state;
	uint64_t offered = bring_up(false);
	uint8_t before[512];

	assert_true(offered & (1ull << VIRTIO_BLK_F_RO));
	memcpy(before, disk, 512);
	memset(ram + DATA_GPA, 0x11, 512);
	request(VIRTIO_BLK_T_OUT, 0, 512, false);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_IOERR);
	assert_memory_equal(disk, before, 512);
	assert_int_equal(blk.stats.errors, 1);
}

static void test_beyond_the_end_and_odd_lengths(void **state)
{
	(void)state;
	bring_up(true);
	request(VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1, 1024, true); /* one sector too many */
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_IOERR);
	request(VIRTIO_BLK_T_IN, UINT64_MAX / 512, 512, true); /* offset overflows */
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_IOERR);
	request(VIRTIO_BLK_T_IN, 0, 100, true); /* not whole sectors */
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_IOERR);
	request(VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1, 512, true); /* the last sector */
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_OK);
	assert_int_equal(blk.stats.errors, 3);
}

static void test_get_id_and_unknown_type(void **state)
{
	(void)state;
	bring_up(true);
	request(VIRTIO_BLK_T_GET_ID, 0, 20, true);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_OK);
	assert_memory_equal(ram + DATA_GPA, "pgvisor-vm1-vda", 16);
	request(99, 0, 512, true);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_UNSUPP);
}

static void test_bad_chain_sets_needs_reset(void **state)
{
	(void)state;
	bring_up(true);
	/* The data descriptor points past the end of guest RAM. */
	put_desc(0, HDR_GPA, 16, 1, 1);
	put_desc(1, RAM_SIZE - 8, 512, 3, 2);
	put_desc(2, STATUS_GPA, 1, 2, 0);
	uint16_t head = 0;
	memcpy(ram + AVAIL_GPA + 4 + 2 * (avail_idx % QSIZE), &head, 2);
	avail_idx++;
	memcpy(ram + AVAIL_GPA + 2, &avail_idx, 2);
	unsigned before = used_idx();
	pci_device_bar_write(&blk.dev.pci, notify_bar, 0, 2, 0);
	assert_int_equal(used_idx(), before);
	assert_true(common_read(CC_STATUS, 1) & S_NEEDS_RESET);
	assert_non_null(strstr(printed, "pgvisor: vm vm1: virtio-blk vda: descriptor outside guest "
					"RAM; device needs reset"));
	/* A reset (status 0) brings it back. */
	common_write(CC_STATUS, 1, 0);
	assert_int_equal(common_read(CC_STATUS, 1), 0);
}

static void test_msix_masked_vector_waits(void **state)
{
	(void)state;
	bring_up(true);
	/* Mask vector 1: the completion sets its pending bit instead. */
	pci_device_bar_write(&blk.dev.pci, 0, 0x3000 + 16 + 12, 4, 1);
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	assert_int_equal(msi_count, 0);
	assert_int_equal(pci_device_bar_read(&blk.dev.pci, 0, 0x3800, 8), 1u << 1);
	pci_device_bar_write(&blk.dev.pci, 0, 0x3000 + 16 + 12, 4, 0);
	assert_int_equal(msi_count, 1);
	assert_int_equal(pci_device_bar_read(&blk.dev.pci, 0, 0x3800, 8), 0);
	/* A vector the table lacks reads back as NO_VECTOR. */
	common_write(CC_QUEUE_MSIX, 2, 40);
	assert_int_equal(common_read(CC_QUEUE_MSIX, 2), 0xffff);
}

static void test_features_must_include_version_1(void **state)
{
	(void)state;
	bring_up(true);
	common_write(CC_STATUS, 1, 0);
	common_write(CC_STATUS, 1, S_ACK | S_DRIVER);
	common_write(CC_DRIVER_FEATURE_SELECT, 4, 1);
	common_write(CC_DRIVER_FEATURE, 4, 0); /* no VERSION_1 */
	common_write(CC_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK);
	assert_false(common_read(CC_STATUS, 1) & S_FEATURES_OK);
}

static void test_pci_config_window(void **state)
{
	(void)state;
	bring_up(true);
	/* The device configuration's capacity, read through the window
	 * (4.1.4.9): bar, offset and length, then the data field. */
	cfg_write(pci_cfg_cap + 4, 1, 0);
	cfg_write(pci_cfg_cap + 8, 4, device_off);
	cfg_write(pci_cfg_cap + 12, 4, 4);
	assert_int_equal(cfg_read(pci_cfg_cap + 16, 4), DISK_SIZE / 512);
}

/* A driver that leaves MSI-X off gets INTA, routed as the _PRT says, up
 * until it reads the ISR. */
static void test_intx_without_msix(void **state)
{
	(void)state;
	bring_up(true);
	uint8_t cap = blk.dev.pci.msix.cap;
	cfg_write(cap + 2, 2, 0); /* MSI-X off */
	blk.dev.pci.slot = 2;
	blk.dev.pci.intx_send = intx_send;
	assert_int_equal(cfg_read(0x3d, 1), 1); /* INTA */
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	assert_int_equal(msi_count, 0);
	assert_int_equal(intx_gsi, 16 + (2 - 1) % 8);
	assert_int_equal(intx_level, 1);
	assert_true(cfg_read(0x06, 2) & 0x08); /* status: interrupt */
	assert_int_equal(pci_device_bar_read(&blk.dev.pci, 0, 0x1000, 1), 1); /* queue */
	assert_int_equal(intx_level, 0);
	assert_int_equal(pci_device_bar_read(&blk.dev.pci, 0, 0x1000, 1), 0); /* cleared */
	/* With INTx disabled in the command register the line stays low. */
	cfg_write(0x04, 2, 0x7 | 0x400);
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	assert_int_equal(intx_level, 0);
	assert_true(cfg_read(0x06, 2) & 0x08);
}

/* A machine disk behind a partition: MACHINE_SECTORS sectors in memory, a
 * driver that can be told to fail, and a log of what it was asked. */
#define MACHINE_SECTORS 256
#define PART_FIRST 64
#define PART_SECTORS 64
static uint8_t machine[MACHINE_SECTORS * 512];
static bool fail_next;
static char ops_log[64];

static void log_op(char op)
{
	size_t n = strlen(ops_log);

	if (n + 1 < sizeof(ops_log)) {
		ops_log[n] = op;
		ops_log[n + 1] = '\0';
	}
}

static int fake_read(struct blockdev *d, uint64_t lba, uint32_t count, void *buf, char *why,
		     size_t len)
{
	(void)d;
	log_op('r');
	if (fail_next) {
		fail_next = false;
		snprintf(why, len, "timeout after 5000 ms");
		return -1;
	}
	memcpy(buf, machine + lba * 512, count * 512u);
	return 0;
}

static int fake_write(struct blockdev *d, uint64_t lba, uint32_t count, const void *buf, char *why,
		      size_t len)
{
	(void)d;
	log_op('w');
	if (fail_next) {
		fail_next = false;
		snprintf(why, len, "device error 0x04");
		return -1;
	}
	memcpy(machine + lba * 512, buf, count * 512u);
	return 0;
}

static int fake_flush(struct blockdev *d, char *why, size_t len)
{
	(void)d;
	log_op('f');
	if (fail_next) {
		fail_next = false;
		snprintf(why, len, "device error 0x04");
		return -1;
	}
	return 0;
}

static const struct blockdev_ops fake_ops = { fake_read, fake_write, fake_flush };
static struct blockdev machine_disk = { .name = "ata0",
					.sectors = MACHINE_SECTORS,
					.ops = &fake_ops };
static uint8_t bounce[VIRTIO_BLK_BOUNCE_BYTES];

static void bring_up_partition(bool writable)
{
	struct partition *p = partition_find("data");

	if (!p) {
		assert_int_equal(
			partition_add(&machine_disk, "data", PART_FIRST, PART_SECTORS, false), 0);
		p = partition_find("data");
	}
	for (unsigned i = 0; i < sizeof(machine); i++)
		machine[i] = (uint8_t)(i * 7 + i / 512);
	fail_next = false;
	ops_log[0] = '\0';
	struct virtio_blk_store store = { .part = p, .bounce = bounce, .size = PART_SECTORS * 512 };
	bring_up_store(&store, writable);
}

/* Sectors are the partition's: sector 3 is the disk's PART_FIRST + 3. */
static void test_partition_read_and_write_stay_inside_it(void **state)
{
	(void)state;
	bring_up_partition(true);
	/* The capacity is the partition's (5.2.4), read through the window. */
	cfg_write(pci_cfg_cap + 4, 1, 0);
	cfg_write(pci_cfg_cap + 8, 4, device_off);
	cfg_write(pci_cfg_cap + 12, 4, 4);
	assert_int_equal(cfg_read(pci_cfg_cap + 16, 4), PART_SECTORS);
	request(VIRTIO_BLK_T_IN, 3, 1024, true);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_OK);
	assert_memory_equal(ram + DATA_GPA, machine + (PART_FIRST + 3) * 512, 1024);

	uint8_t before[sizeof(machine)];
	memcpy(before, machine, sizeof(machine));
	memset(ram + DATA_GPA, 0x5a, 1024);
	request(VIRTIO_BLK_T_OUT, PART_SECTORS - 2, 1024, false);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(machine[(PART_FIRST + PART_SECTORS - 2) * 512 + i], 0x5a);
	/* Everything else on the machine's disk is as it was. */
	assert_memory_equal(machine, before, (PART_FIRST + PART_SECTORS - 2) * 512);
	assert_memory_equal(machine + (PART_FIRST + PART_SECTORS) * 512,
			    before + (PART_FIRST + PART_SECTORS) * 512,
			    sizeof(machine) - (PART_FIRST + PART_SECTORS) * 512);
	/* One sector past the partition's end: refused, the disk not asked. */
	ops_log[0] = '\0';
	request(VIRTIO_BLK_T_OUT, PART_SECTORS - 1, 1024, false);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_IOERR);
	assert_string_equal(ops_log, "");
}

/* A device error fails that request with IOERR and one line naming the VM
 * and the partition; the next request works. */
static void test_partition_device_error_is_ioerr(void **state)
{
	(void)state;
	bring_up_partition(true);
	printed[0] = '\0';
	fail_next = true;
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_IOERR);
	assert_non_null(strstr(printed, "vm vm1: virtio-blk vda (part:data): read at sector 0 "
					"failed: timeout after 5000 ms; IOERR"));
	fail_next = true;
	request(VIRTIO_BLK_T_OUT, 5, 512, false);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_IOERR);
	assert_non_null(strstr(printed, "write at sector 5 failed: device error 0x04"));
	request(VIRTIO_BLK_T_IN, 0, 512, true);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_OK);
	assert_int_equal(common_read(CC_STATUS, 1) & S_NEEDS_RESET, 0);
}

/* Writes reach the device as issued; a FLUSH asks the device to flush and
 * fails if it does. */
static void test_partition_flush_reaches_the_device(void **state)
{
	(void)state;
	bring_up_partition(true);
	request(VIRTIO_BLK_T_OUT, 1, 512, false);
	request(VIRTIO_BLK_T_OUT, 2, 512, false);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, false);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_OK);
	request(VIRTIO_BLK_T_OUT, 3, 512, false);
	assert_string_equal(ops_log, "wwfw");
	fail_next = true;
	request(VIRTIO_BLK_T_FLUSH, 0, 0, false);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_IOERR);
	assert_non_null(strstr(printed, "flush at sector 0 failed: device error 0x04"));
}

/* Posts header, two data buffers (len1 at DATA_GPA, len2 at DATA2_GPA)
 * and status, and notifies. */
#define DATA2_GPA 0x7000
static void split_request(uint32_t type, uint64_t sector, uint32_t len1, uint32_t len2)
{
	uint16_t head = 0, w = type == VIRTIO_BLK_T_IN ? 2 : 0;

	memcpy(ram + HDR_GPA, &type, 4);
	memset(ram + HDR_GPA + 4, 0, 4);
	memcpy(ram + HDR_GPA + 8, &sector, 8);
	ram[STATUS_GPA] = 0xee;
	put_desc(0, HDR_GPA, 16, 1, 1);
	put_desc(1, DATA_GPA, len1, 1 | w, 2);
	put_desc(2, DATA2_GPA, len2, 1 | w, 3);
	put_desc(3, STATUS_GPA, 1, 2, 0);
	memcpy(ram + AVAIL_GPA + 4 + 2 * (avail_idx % QSIZE), &head, 2);
	avail_idx++;
	memcpy(ram + AVAIL_GPA + 2, &avail_idx, 2);
	pci_device_bar_write(&blk.dev.pci, notify_bar, 0, 2, 0);
}

/* Guest buffers that split a sector: whole sectors go straight to the
 * driver, the split one through the bounce buffer; the bytes land where
 * the chain says either way. */
static void test_partition_sector_split_between_buffers(void **state)
{
	(void)state;
	bring_up_partition(true);
	split_request(VIRTIO_BLK_T_IN, 4, 700, 1348); /* 2048 bytes: 4 sectors */
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_OK);
	assert_memory_equal(ram + DATA_GPA, machine + (PART_FIRST + 4) * 512, 700);
	assert_memory_equal(ram + DATA2_GPA, machine + (PART_FIRST + 4) * 512 + 700, 1348);

	for (unsigned i = 0; i < 700; i++)
		ram[DATA_GPA + i] = (uint8_t)(i ^ 0x3c);
	for (unsigned i = 0; i < 1348; i++)
		ram[DATA2_GPA + i] = (uint8_t)(i * 5);
	split_request(VIRTIO_BLK_T_OUT, 8, 700, 1348);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_OK);
	assert_memory_equal(machine + (PART_FIRST + 8) * 512, ram + DATA_GPA, 700);
	assert_memory_equal(machine + (PART_FIRST + 8) * 512 + 700, ram + DATA2_GPA, 1348);
}

/* --- the state stream's record (virtio_blk_save / virtio_blk_load) ------- */

/* The record's layout, from docs/STATE_STREAM.md: the PCI function (256
 * bytes of configuration space, the INTx level, the MSI-X table size, its
 * entries and pending bits), the transport, then each queue. */
#define NVEC 2 /* a queue's vector and the configuration's */
#define REC_PCI (256 + 1 + 2 + NVEC * 16 + 4)
#define REC_DEVICE_FEATURES (REC_PCI + 2 + 1)
#define REC_DRIVER_FEATURES (REC_DEVICE_FEATURES + 8)
#define REC_STATUS (REC_DRIVER_FEATURES + 8 + 4 + 4)
#define REC_ISR (REC_STATUS + 2)
#define REC_CONFIG (REC_ISR + 1 + 2 + 2 + 1)
#define REC_QUEUE (REC_CONFIG + 24)
#define REC_Q_SIZE (REC_QUEUE + 0)
#define REC_Q_VECTOR (REC_QUEUE + 4)
#define REC_Q_DESC (REC_QUEUE + 6)
#define REC_Q_LAST_AVAIL (REC_QUEUE + 30)
#define REC_LEN (REC_QUEUE + 36)
#define REC_CAP 1024

static uint8_t rec[REC_CAP];

/* The device as it runs now, into rec; its length. */
static size_t save_rec(void)
{
	struct state_writer w;

	state_writer_init(&w, rec, sizeof(rec), 0);
	virtio_blk_save(&blk, &w);
	assert_false(w.overflow);
	return w.len;
}

/* A fresh device (as the destination builds it) over the same disk, and
 * the record of len bytes loaded into it: 0 or -1 (why in *why). */
static int load_rec(size_t len, const char **why)
{
	struct virtio_blk_store store = { .image = disk, .size = DISK_SIZE };
	struct state_reader r;

	assert_int_equal(virtio_blk_init(&blk, "vm2", "vda", &store, true, ram, RAM_SIZE), 0);
	blk.dev.pci.msi_send = msi_send;
	state_reader_init(&r, rec, len, 0);
	int ret = virtio_blk_load(&blk, &r);
	*why = r.refused;
	return ret;
}

static void test_state_round_trip(void **state)
{
	const char *why;
	(void)state;

	bring_up(true);
	memset(ram + DATA_GPA, 0x77, 512);
	request(VIRTIO_BLK_T_OUT, 2, 512, false);
	assert_int_equal(used_idx(), 1);
	size_t len = save_rec();
	assert_int_equal(len, REC_LEN);

	assert_int_equal(load_rec(len, &why), 0);
	assert_null(why);
	assert_int_equal(virtio_dev_check_loaded(&blk.dev, &why), 0);
	/* The driver goes on where it was: same status, BARs, vector; the
	 * next request is the queue's second. */
	assert_int_equal(common_read(CC_STATUS, 1), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	assert_int_equal(cfg_read(0x10, 4), BAR0_BASE);
	assert_int_equal(cfg_read(0x04, 2), 0x7);
	msi_count = 0;
	request(VIRTIO_BLK_T_IN, 2, 512, true);
	assert_int_equal(used_idx(), 2);
	assert_int_equal(ram[STATUS_GPA], VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(ram[DATA_GPA + i], 0x77);
	assert_int_equal(msi_count, 1);
	assert_int_equal(msi_last_data, MSI_DATA_QUEUE);
	/* And saves to the same bytes but the queue's positions. */
	uint8_t first[REC_LEN];
	memcpy(first, rec, sizeof(first));
	assert_int_equal(save_rec(), REC_LEN);
	assert_memory_equal(rec, first, REC_LEN - 36);
}

static void put16(size_t at, uint16_t v)
{
	memcpy(rec + at, &v, 2);
}

static void put64(size_t at, uint64_t v)
{
	memcpy(rec + at, &v, 8);
}

/* The running device's record with one change applied by spoil is
 * refused for why, and the fresh device it was loaded into is untouched. */
static void expect_refused(void (*spoil)(void), size_t len_delta, const char *why)
{
	const char *got;

	bring_up(true);
	size_t len = save_rec();
	if (spoil)
		spoil();
	assert_int_equal(load_rec(len + len_delta, &got), -1);
	assert_non_null(got);
	if (!strstr(got, why))
		fail_msg("refused for '%s', expected '%s'", got, why);
	assert_int_equal(blk.dev.status, 0);
	assert_false(blk.dev.vq[0].ready);
	assert_int_equal(cfg_read(0x04, 2), 0);
}

static void desc_outside_ram(void)
{
	put64(REC_Q_DESC, RAM_SIZE - 16);
}

static void desc_wraps(void)
{
	put64(REC_Q_DESC, ~0ull - 15);
}

static void size_not_power_of_two(void)
{
	put16(REC_Q_SIZE, 12);
}

static void size_too_big(void)
{
	put16(REC_Q_SIZE, 512);
}

static void index_beyond_ring(void)
{
	put16(REC_Q_LAST_AVAIL, QSIZE + 1);
}

static void request_in_flight(void)
{
	put16(REC_Q_LAST_AVAIL, 1);
}

static void vector_past_table(void)
{
	put16(REC_Q_VECTOR, NVEC);
}

static void isr_reserved(void)
{
	rec[REC_ISR] = 4;
}

static void feature_not_offered(void)
{
	put64(REC_DRIVER_FEATURES, 1ull << 40 | 1ull << VIRTIO_F_VERSION_1);
}

static void other_device_features(void)
{
	put64(REC_DEVICE_FEATURES, 1ull << VIRTIO_F_VERSION_1);
}

static void other_capacity(void)
{
	rec[REC_CONFIG] ^= 1;
}

static void other_vendor(void)
{
	rec[0] ^= 1;
}

static void pending_past_table(void)
{
	rec[REC_PCI - 4] = 1 << NVEC;
}

static void bad_bool(void)
{
	rec[256] = 2; /* the INTx level */
}

static void test_state_refusals(void **state)
{
	(void)state;
	expect_refused(desc_outside_ram, 0, "descriptor table outside guest RAM");
	expect_refused(desc_wraps, 0, "descriptor table outside guest RAM");
	expect_refused(size_not_power_of_two, 0, "queue size is not a power of two");
	expect_refused(size_too_big, 0, "queue size is not a power of two");
	expect_refused(index_beyond_ring, 0, "queue index beyond the ring");
	expect_refused(request_in_flight, 0, "a request in flight");
	expect_refused(vector_past_table, 0, "queue vector past the MSI-X table");
	expect_refused(isr_reserved, 0, "ISR bits");
	expect_refused(feature_not_offered, 0, "features accepted that the device does not offer");
	expect_refused(other_device_features, 0, "another kind of device or other features");
	expect_refused(other_capacity, 0, "device configuration differs");
	expect_refused(other_vendor, 0, "read-only configuration bits differ");
	expect_refused(pending_past_table, 0, "MSI-X pending bits past its table");
	expect_refused(bad_bool, 0, "");
	/* Truncated anywhere, or a byte too many. */
	for (size_t cut = 1; cut < REC_LEN; cut += 7)
		expect_refused(NULL, (size_t)0 - cut, "");
	expect_refused(NULL, 1, "longer than its device's state");
}

/* Once the guest's RAM is back, the rings must agree with the device. */
static void test_loaded_rings_checked(void **state)
{
	const char *why = NULL;
	(void)state;

	bring_up(true);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, false);
	size_t len = save_rec();
	assert_int_equal(load_rec(len, &why), 0);
	assert_int_equal(virtio_dev_check_loaded(&blk.dev, &why), 0);
	uint16_t other = 7;
	memcpy(ram + USED_GPA + 2, &other, 2);
	assert_int_equal(virtio_dev_check_loaded(&blk.dev, &why), -1);
	assert_string_equal(why, "used ring index in guest RAM differs from the device's");
	other = 1;
	memcpy(ram + USED_GPA + 2, &other, 2);
	uint16_t ahead = (uint16_t)(1 + QSIZE + 1);
	memcpy(ram + AVAIL_GPA + 2, &ahead, 2);
	assert_int_equal(virtio_dev_check_loaded(&blk.dev, &why), -1);
	assert_string_equal(why, "available index more than a queue ahead of the device");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_space_and_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_then_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_disk_refuses_writes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_beyond_the_end_and_odd_lengths, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_get_id_and_unknown_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_chain_sets_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_masked_vector_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_must_include_version_1, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pci_config_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_without_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partition_read_and_write_stay_inside_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_partition_device_error_is_ioerr, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_partition_flush_reaches_the_device, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_state_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loaded_rings_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partition_sector_split_between_buffers, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
