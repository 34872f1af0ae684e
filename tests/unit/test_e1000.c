/* Unit tests for drivers/net/e1000.c against a fake register block: the
 * fake controller below moves frames through the descriptor rings the way
 * the 8254x does (RDH/TDH advance, DD and EOP written back), so the
 * driver's ring logic, its checks of what the controller wrote and its
 * counters are exercised without hardware. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/net/e1000.h"

#define FRAME_LEN 60
#define SENT_MAX 256
static const uint8_t eeprom_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct fake {
	uint32_t regs[E1000_MMIO_SIZE / 4];
	bool rst_sticks; /* a controller that never leaves reset */
	bool mdic_dead;	 /* a PHY that never answers */
	uint16_t phy_ctrl;
	unsigned sent;
	uint8_t sent_frame[SENT_MAX][E1000_BUF_SIZE];
	uint16_t sent_len[SENT_MAX];
};

struct fixture {
	struct fake hw;
	struct e1000 e;
	struct e1000_dma *dma;
};

static uint32_t *reg(struct fake *hw, unsigned off)
{
	return &hw->regs[off / 4];
}

/* What the controller does while the driver waits. */
static void fake_delay(void *ctx, unsigned us)
{
	struct fake *hw = ctx;
	uint32_t *eerd = reg(hw, E1000_EERD), *mdic = reg(hw, E1000_MDIC);

	(void)us;
	if (!hw->rst_sticks)
		*reg(hw, E1000_CTRL) &= ~E1000_CTRL_RST;
	if (*eerd & E1000_EERD_START) {
		unsigned w = (*eerd >> E1000_EERD_ADDR_SHIFT) & 0xff;
		uint32_t word = eeprom_mac[2 * w] | (uint32_t)eeprom_mac[2 * w + 1] << 8;
		*eerd = (*eerd & ~E1000_EERD_START) | E1000_EERD_DONE |
			word << E1000_EERD_DATA_SHIFT;
	}
	if (!hw->mdic_dead && (*mdic & (E1000_MDIC_OP_READ | E1000_MDIC_OP_WRITE)) &&
	    !(*mdic & E1000_MDIC_READY)) {
		if (*mdic & E1000_MDIC_OP_WRITE)
			hw->phy_ctrl = (uint16_t)*mdic;
		*mdic = (*mdic & ~E1000_MDIC_DATA_MASK) | E1000_MDIC_READY | hw->phy_ctrl;
	}
}

/* The controller receives a frame: into the descriptor at RDH when it
 * owns one, spread over several when longer than a buffer. */
static bool fake_rx(struct fixture *f, const uint8_t *data, size_t len, uint8_t errors)
{
	struct fake *hw = &f->hw;
	size_t done = 0;

	do {
		uint32_t h = *reg(hw, E1000_RDH);
		if (h == *reg(hw, E1000_RDT)) {
			(*reg(hw, E1000_MPC))++;
			return false;
		}
		struct e1000_rx_desc *d = &f->dma->rx[h];
		size_t n = len - done > E1000_BUF_SIZE ? E1000_BUF_SIZE : len - done;
		memcpy((void *)(uintptr_t)d->addr, data + done, n);
		done += n;
		d->length = (uint16_t)n;
		d->errors = errors;
		d->status = E1000_RXD_STAT_DD | (done == len ? E1000_RXD_STAT_EOP : 0);
		*reg(hw, E1000_RDH) = (h + 1) % E1000_RX_DESCS;
	} while (done < len);
	return true;
}

/* The controller sends what lies between TDH and TDT. */
static void fake_tx(struct fixture *f)
{
	struct fake *hw = &f->hw;

	while (*reg(hw, E1000_TDH) != *reg(hw, E1000_TDT)) {
		struct e1000_tx_desc *d = &f->dma->tx[*reg(hw, E1000_TDH)];
		assert_true(d->cmd & E1000_TXD_CMD_EOP);
		assert_true(d->cmd & E1000_TXD_CMD_RS);
		assert_int_equal(*reg(hw, E1000_TCTL) & E1000_TCTL_EN, E1000_TCTL_EN);
		assert_true(hw->sent < SENT_MAX);
		memcpy(hw->sent_frame[hw->sent], (void *)(uintptr_t)d->addr, d->length);
		hw->sent_len[hw->sent++] = d->length;
		d->status |= E1000_TXD_STAT_DD;
		*reg(hw, E1000_TDH) = (*reg(hw, E1000_TDH) + 1) % E1000_TX_DESCS;
	}
}

static void make_frame(uint8_t *buf, size_t len, uint8_t tag)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(tag + i);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || posix_memalign((void **)&f->dma, 4096, sizeof(*f->dma)))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->dma);
	free(f);
	return 0;
}

static void init_ok(struct fixture *f)
{
	const char *why = NULL;

	*reg(&f->hw, E1000_STATUS) = E1000_STATUS_LU;
	assert_int_equal(e1000_init(&f->e, f->hw.regs, f->dma, fake_delay, &f->hw, &why), 0);
	assert_null(why);
}

static void test_init_programs_rings_and_reads_eeprom_mac(void **state)
{
	struct fixture *f = *state;
	struct fake *hw = &f->hw;

	init_ok(f);
	assert_memory_equal(f->e.dev.mac, eeprom_mac, 6);
	assert_int_equal(*reg(hw, E1000_IMC), 0xffffffffu);
	assert_true(*reg(hw, E1000_CTRL) & E1000_CTRL_SLU);
	assert_int_equal(*reg(hw, E1000_RDBAL), (uint32_t)(uintptr_t)f->dma->rx);
	assert_int_equal(*reg(hw, E1000_RDBAH), (uint32_t)((uintptr_t)f->dma->rx >> 32));
	assert_int_equal(*reg(hw, E1000_RDLEN), E1000_RX_DESCS * 16);
	assert_int_equal(*reg(hw, E1000_RDLEN) % 128, 0);
	assert_int_equal(*reg(hw, E1000_RDT), E1000_RX_DESCS - 1);
	assert_int_equal(*reg(hw, E1000_TDLEN), E1000_TX_DESCS * 16);
	assert_int_equal(*reg(hw, E1000_TDT), 0);
	uint32_t rctl = *reg(hw, E1000_RCTL);
	assert_true(rctl & E1000_RCTL_EN);
	assert_true(rctl & E1000_RCTL_UPE);
	assert_true(rctl & E1000_RCTL_BAM);
	assert_true(rctl & E1000_RCTL_SECRC);
	uint32_t tctl = *reg(hw, E1000_TCTL);
	assert_true(tctl & E1000_TCTL_EN);
	assert_true(tctl & E1000_TCTL_PSP);
	for (unsigned i = 0; i < E1000_RX_DESCS; i++)
		assert_ptr_equal((void *)(uintptr_t)f->dma->rx[i].addr, f->dma->rx_buf[i]);
	assert_true(f->e.dev.ops->link_up(&f->e.dev));
}

static void test_mac_from_receive_address_when_valid(void **state)
{
	struct fixture *f = *state;
	const char *why;

	*reg(&f->hw, E1000_RAL0) = 0x44332211;
	*reg(&f->hw, E1000_RAH0) = E1000_RAH_AV | 0x6655;
	assert_int_equal(e1000_init(&f->e, f->hw.regs, f->dma, fake_delay, &f->hw, &why), 0);
	const uint8_t want[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
	assert_memory_equal(f->e.dev.mac, want, 6);
}

static void test_reset_that_never_ends_fails(void **state)
{
	struct fixture *f = *state;
	const char *why = NULL;

	f->hw.rst_sticks = true;
	assert_int_equal(e1000_init(&f->e, f->hw.regs, f->dma, fake_delay, &f->hw, &why), -1);
	assert_non_null(why);
}

static void test_frames_go_out_in_order_and_descriptors_come_back(void **state)
{
	struct fixture *f = *state;
	struct netdev *d = &f->e.dev;
	uint8_t frame[FRAME_LEN];

	init_ok(f);
	/* Three times round the ring: freed descriptors are reused. */
	for (unsigned i = 0; i < 3 * E1000_TX_DESCS; i++) {
		make_frame(frame, sizeof(frame), (uint8_t)i);
		assert_int_equal(d->ops->transmit(d, frame, sizeof(frame)), 0);
		fake_tx(f);
		assert_int_equal(f->hw.sent_len[i], FRAME_LEN);
		assert_memory_equal(f->hw.sent_frame[i], frame, FRAME_LEN);
	}
	assert_int_equal(d->stats.tx_frames, 3 * E1000_TX_DESCS);
	assert_int_equal(d->stats.tx_bytes, 3 * E1000_TX_DESCS * FRAME_LEN);
	assert_int_equal(d->stats.tx_busy, 0);
}

static void test_full_transmit_ring_refuses_until_sent(void **state)
{
	struct fixture *f = *state;
	struct netdev *d = &f->e.dev;
	uint8_t frame[FRAME_LEN] = { 0 };
	unsigned queued = 0;

	init_ok(f);
	while (d->ops->transmit(d, frame, sizeof(frame)) == 0)
		queued++;
	/* One descriptor stays free: TDT == TDH would mean "empty". */
	assert_int_equal(queued, E1000_TX_DESCS - 1);
	assert_int_equal(d->stats.tx_busy, 1);
	fake_tx(f);
	assert_int_equal(f->hw.sent, E1000_TX_DESCS - 1);
	assert_int_equal(d->ops->transmit(d, frame, sizeof(frame)), 0);
}

static void test_oversized_or_empty_frame_refused(void **state)
{
	struct fixture *f = *state;
	struct netdev *d = &f->e.dev;
	static uint8_t big[E1000_BUF_SIZE + 1];

	init_ok(f);
	assert_int_equal(d->ops->transmit(d, big, sizeof(big)), -1);
	assert_int_equal(d->ops->transmit(d, big, 0), -1);
	assert_int_equal(*reg(&f->hw, E1000_TDT), 0);
}

static void test_received_frames_in_order_and_buffers_returned(void **state)
{
	struct fixture *f = *state;
	struct netdev *d = &f->e.dev;
	uint8_t frame[FRAME_LEN], got[E1000_BUF_SIZE];

	init_ok(f);
	assert_int_equal(d->ops->receive(d, got, sizeof(got)), 0);
	for (unsigned i = 0; i < 3 * E1000_RX_DESCS; i++) {
		make_frame(frame, sizeof(frame), (uint8_t)i);
		assert_true(fake_rx(f, frame, sizeof(frame), 0));
		assert_int_equal(d->ops->receive(d, got, sizeof(got)), FRAME_LEN);
		assert_memory_equal(got, frame, FRAME_LEN);
		/* The descriptor just read is the controller's again. */
		assert_int_equal(*reg(&f->hw, E1000_RDT), i % E1000_RX_DESCS);
	}
	assert_int_equal(d->ops->receive(d, got, sizeof(got)), 0);
	assert_int_equal(d->stats.rx_frames, 3 * E1000_RX_DESCS);
}

static void test_ring_full_counts_missed_frames(void **state)
{
	struct fixture *f = *state;
	struct netdev *d = &f->e.dev;
	uint8_t frame[FRAME_LEN] = { 0 }, got[E1000_BUF_SIZE];
	unsigned taken = 0;

	init_ok(f);
	while (fake_rx(f, frame, sizeof(frame), 0))
		taken++;
	assert_int_equal(taken, E1000_RX_DESCS - 1);
	while (d->ops->receive(d, got, sizeof(got)))
		;
	assert_int_equal(d->stats.rx_frames, E1000_RX_DESCS - 1);
	assert_int_equal(d->stats.rx_missed, 1);
	/* Room again: all buffers went back. */
	assert_true(fake_rx(f, frame, sizeof(frame), 0));
}

static void test_bad_frames_skipped_and_counted(void **state)
{
	struct fixture *f = *state;
	struct netdev *d = &f->e.dev;
	static uint8_t jumbo[E1000_BUF_SIZE + 100];
	uint8_t frame[FRAME_LEN], got[E1000_BUF_SIZE];

	init_ok(f);
	make_frame(frame, sizeof(frame), 7);
	assert_true(fake_rx(f, frame, sizeof(frame), 0x01)); /* CRC error */
	assert_true(fake_rx(f, jumbo, sizeof(jumbo), 0));    /* two buffers */
	assert_true(fake_rx(f, frame, sizeof(frame), 0));
	assert_int_equal(d->ops->receive(d, got, sizeof(got)), FRAME_LEN);
	assert_memory_equal(got, frame, FRAME_LEN);
	assert_int_equal(d->stats.rx_errors, 2);
	assert_int_equal(d->stats.rx_frames, 1);
	/* All four descriptors went back. */
	assert_int_equal(*reg(&f->hw, E1000_RDT), 3);
}

static void test_length_beyond_buffer_not_trusted(void **state)
{
	struct fixture *f = *state;
	struct netdev *d = &f->e.dev;
	uint8_t frame[FRAME_LEN] = { 0 }, got[E1000_BUF_SIZE];

	init_ok(f);
	assert_true(fake_rx(f, frame, sizeof(frame), 0));
	f->dma->rx[0].length = 0xffff;
	assert_int_equal(d->ops->receive(d, got, sizeof(got)), 0);
	assert_int_equal(d->stats.rx_errors, 1);
	/* Nor beyond the caller's buffer. */
	assert_true(fake_rx(f, frame, sizeof(frame), 0));
	assert_int_equal(d->ops->receive(d, got, FRAME_LEN - 1), 0);
	assert_int_equal(d->stats.rx_errors, 2);
}

static void test_loopback_sets_and_clears_phy_bit(void **state)
{
	struct fixture *f = *state;
	struct netdev *d = &f->e.dev;

	init_ok(f);
	f->hw.phy_ctrl = 0x1140;
	assert_int_equal(d->ops->set_loopback(d, true), 0);
	assert_int_equal(f->hw.phy_ctrl, 0x1140 | E1000_PHY_CTRL_LOOPBACK);
	assert_int_equal(d->ops->set_loopback(d, false), 0);
	assert_int_equal(f->hw.phy_ctrl, 0x1140);
	f->hw.mdic_dead = true;
	assert_int_equal(d->ops->set_loopback(d, true), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_programs_rings_and_reads_eeprom_mac,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_from_receive_address_when_valid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reset_that_never_ends_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_frames_go_out_in_order_and_descriptors_come_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_transmit_ring_refuses_until_sent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_oversized_or_empty_frame_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_received_frames_in_order_and_buffers_returned,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_full_counts_missed_frames, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_frames_skipped_and_counted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_length_beyond_buffer_not_trusted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_loopback_sets_and_clears_phy_bit, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
