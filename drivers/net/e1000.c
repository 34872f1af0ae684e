#include "drivers/net/e1000.h"

#include <string.h>

#define RESET_WAIT_US 10 /* poll CTRL.RST this often after a reset */
#define RESET_TRIES 1000 /* 10 ms: the SDM asks for 1 us (SDM 14.3) */
#define EERD_TRIES 1000	 /* 10 us each: an EEPROM word takes microseconds */
#define MDIC_TRIES 1000	 /* 10 us each: an MDIO transaction is ~64 us */
#define POLL_WAIT_US 10
#define MAC_EEPROM_WORDS 3 /* EEPROM words 0-2: the Ethernet address (SDM 5.6.1) */
#define BYTE 8

static inline uint32_t rd(const struct e1000 *e, unsigned reg)
{
	return e->regs[reg / 4];
}

static inline void wr(struct e1000 *e, unsigned reg, uint32_t v)
{
	e->regs[reg / 4] = v;
}

static uint64_t phys(const void *p)
{
	return (uint64_t)(uintptr_t)p; /* the identity map */
}

static struct e1000 *of(struct netdev *d)
{
	return d->priv;
}

/* The address the EEPROM loaded into receive address 0 at reset (SDM
 * 14.3), else the EEPROM's words read one by one. */
static int read_mac(struct e1000 *e, uint8_t mac[NETDEV_MAC_LEN])
{
	uint32_t ral = rd(e, E1000_RAL0), rah = rd(e, E1000_RAH0);

	if (rah & E1000_RAH_AV) {
		for (unsigned i = 0; i < 4; i++)
			mac[i] = (uint8_t)(ral >> (BYTE * i));
		mac[4] = (uint8_t)rah;
		mac[5] = (uint8_t)(rah >> BYTE);
		return 0;
	}
	for (unsigned w = 0; w < MAC_EEPROM_WORDS; w++) {
		uint32_t v = 0;
		unsigned t;
		wr(e, E1000_EERD, E1000_EERD_START | w << E1000_EERD_ADDR_SHIFT);
		for (t = 0; t < EERD_TRIES; t++) {
			v = rd(e, E1000_EERD);
			if (v & E1000_EERD_DONE)
				break;
			e->delay_us(e->delay_ctx, POLL_WAIT_US);
		}
		if (t == EERD_TRIES)
			return -1;
		mac[2 * w] = (uint8_t)(v >> E1000_EERD_DATA_SHIFT);
		mac[2 * w + 1] = (uint8_t)(v >> (E1000_EERD_DATA_SHIFT + BYTE));
	}
	return 0;
}

/* One MDIO transaction with the internal PHY; *value in and out. */
static int mdic(struct e1000 *e, uint32_t op, unsigned reg, uint16_t *value)
{
	uint32_t v = 0;

	wr(e, E1000_MDIC,
	   op | reg << E1000_MDIC_REG_SHIFT | E1000_MDIC_PHY_ADDR << E1000_MDIC_PHY_SHIFT |
		   (op == E1000_MDIC_OP_WRITE ? *value : 0));
	for (unsigned t = 0; t < MDIC_TRIES; t++) {
		v = rd(e, E1000_MDIC);
		if (v & E1000_MDIC_READY)
			break;
		e->delay_us(e->delay_ctx, POLL_WAIT_US);
	}
	if (!(v & E1000_MDIC_READY) || (v & E1000_MDIC_ERROR))
		return -1;
	*value = (uint16_t)(v & E1000_MDIC_DATA_MASK);
	return 0;
}

/* Every receive descriptor gets its buffer; the controller owns all but
 * one (RDH == RDT means the ring is empty to it: SDM 3.2.6). */
static void start_rx(struct e1000 *e)
{
	struct e1000_dma *m = e->dma;

	for (unsigned i = 0; i < E1000_RX_DESCS; i++)
		m->rx[i] = (struct e1000_rx_desc){ .addr = phys(m->rx_buf[i]) };
	e->rx_next = 0;
	e->rx_discard = false;
	wr(e, E1000_RDBAL, (uint32_t)phys(m->rx));
	wr(e, E1000_RDBAH, (uint32_t)(phys(m->rx) >> 32));
	wr(e, E1000_RDLEN, sizeof(m->rx));
	wr(e, E1000_RDH, 0);
	wr(e, E1000_RDT, E1000_RX_DESCS - 1);
	/* Unicast promiscuous: frames for any VM on the bridge, whose MACs
	 * come and go, are the switch's to filter (SDM 13.4.22). */
	wr(e, E1000_RCTL,
	   E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_MPE | E1000_RCTL_BAM | E1000_RCTL_SECRC);
}

static void start_tx(struct e1000 *e)
{
	struct e1000_dma *m = e->dma;

	memset(m->tx, 0, sizeof(m->tx));
	e->tx_tail = e->tx_clean = 0;
	wr(e, E1000_TDBAL, (uint32_t)phys(m->tx));
	wr(e, E1000_TDBAH, (uint32_t)(phys(m->tx) >> 32));
	wr(e, E1000_TDLEN, sizeof(m->tx));
	wr(e, E1000_TDH, 0);
	wr(e, E1000_TDT, 0);
	wr(e, E1000_TIPG, E1000_TIPG_COPPER);
	wr(e, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT | E1000_TCTL_COLD);
}

/* Descriptors the controller finished with are free again. */
static void reclaim_tx(struct e1000 *e)
{
	volatile struct e1000_tx_desc *tx = e->dma->tx;

	while (e->tx_clean != e->tx_tail && (tx[e->tx_clean].status & E1000_TXD_STAT_DD))
		e->tx_clean = (e->tx_clean + 1) % E1000_TX_DESCS;
}

static int e1000_transmit(struct netdev *d, const void *frame, size_t len)
{
	struct e1000 *e = of(d);
	unsigned i = e->tx_tail, next = (i + 1) % E1000_TX_DESCS;
	volatile struct e1000_tx_desc *desc = &e->dma->tx[i];

	if (!len || len > E1000_BUF_SIZE)
		return -1;
	reclaim_tx(e);
	if (next == e->tx_clean) {
		d->stats.tx_busy++;
		return -1;
	}
	memcpy(e->dma->tx_buf[i], frame, len);
	desc->addr = phys(e->dma->tx_buf[i]);
	desc->length = (uint16_t)len;
	desc->cso = desc->css = 0;
	desc->special = 0;
	desc->status = 0;
	desc->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
	e->tx_tail = next;
	/* The descriptor is complete in memory before the controller may
	 * fetch it (SDM 3.4: software writes the tail last). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	wr(e, E1000_TDT, next);
	d->stats.tx_frames++;
	d->stats.tx_bytes += len;
	return 0;
}

static size_t e1000_receive(struct netdev *d, void *buf, size_t cap)
{
	struct e1000 *e = of(d);

	for (;;) {
		unsigned i = e->rx_next;
		volatile struct e1000_rx_desc *desc = &e->dma->rx[i];
		uint8_t status = desc->status;
		size_t len;
		bool good;

		if (!(status & E1000_RXD_STAT_DD)) {
			d->stats.rx_missed += rd(e, E1000_MPC); /* clears on read */
			return 0;
		}
		/* The rest of the descriptor and its buffer were written
		 * before DD (SDM 3.2.3). */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		/* The controller's length is not trusted further than the
		 * buffer: the copy never leaves it. */
		len = desc->length;
		good = !e->rx_discard && (status & E1000_RXD_STAT_EOP) &&
		       !(desc->errors & E1000_RXD_ERR_FRAME) && len && len <= E1000_BUF_SIZE &&
		       len <= cap;
		if (good)
			memcpy(buf, e->dma->rx_buf[i], len);
		else if (!e->rx_discard)
			d->stats.rx_errors++;
		/* A frame spread over buffers is dropped up to its end. */
		e->rx_discard = !(status & E1000_RXD_STAT_EOP);
		desc->status = 0;
		e->rx_next = (i + 1) % E1000_RX_DESCS;
		/* Back to the controller: it may fill it once we are done. */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		wr(e, E1000_RDT, i);
		if (good) {
			d->stats.rx_frames++;
			d->stats.rx_bytes += len;
			return len;
		}
	}
}

static bool e1000_link_up(struct netdev *d)
{
	return rd(of(d), E1000_STATUS) & E1000_STATUS_LU;
}

static int e1000_set_loopback(struct netdev *d, bool on)
{
	struct e1000 *e = of(d);
	uint16_t ctrl;

	if (mdic(e, E1000_MDIC_OP_READ, E1000_PHY_CTRL, &ctrl))
		return -1;
	if (on)
		ctrl |= E1000_PHY_CTRL_LOOPBACK;
	else
		ctrl &= (uint16_t)~E1000_PHY_CTRL_LOOPBACK;
	return mdic(e, E1000_MDIC_OP_WRITE, E1000_PHY_CTRL, &ctrl);
}

static const struct netdev_ops e1000_ops = {
	.transmit = e1000_transmit,
	.receive = e1000_receive,
	.link_up = e1000_link_up,
	.set_loopback = e1000_set_loopback,
};

int e1000_init(struct e1000 *e, volatile void *regs, struct e1000_dma *dma,
	       void (*delay_us)(void *ctx, unsigned us), void *delay_ctx, const char **why)
{
	unsigned t;

	memset(e, 0, sizeof(*e));
	e->regs = regs;
	e->dma = dma;
	e->delay_us = delay_us;
	e->delay_ctx = delay_ctx;
	e->dev.ops = &e1000_ops;
	e->dev.priv = e;

	/* Masked before and after the reset: nothing may interrupt (SDM
	 * 14.2 masks them before the reset, which unmasks none). */
	wr(e, E1000_IMC, ~0u);
	wr(e, E1000_CTRL, rd(e, E1000_CTRL) | E1000_CTRL_RST);
	for (t = 0; t < RESET_TRIES; t++) {
		e->delay_us(e->delay_ctx, RESET_WAIT_US);
		if (!(rd(e, E1000_CTRL) & E1000_CTRL_RST))
			break;
	}
	if (t == RESET_TRIES) {
		*why = "CTRL.RST did not clear";
		return -1;
	}
	wr(e, E1000_IMC, ~0u);
	(void)rd(e, E1000_ICR); /* clears causes latched before the reset */
	if (read_mac(e, e->dev.mac)) {
		*why = "the EEPROM did not answer (EERD)";
		return -1;
	}
	/* The MAC follows the internal PHY's auto-negotiated link (SDM 14.3). */
	wr(e, E1000_CTRL, rd(e, E1000_CTRL) | E1000_CTRL_SLU | E1000_CTRL_ASDE);
	for (unsigned i = 0; i < E1000_MTA_DWORDS; i++)
		wr(e, E1000_MTA + 4 * i, 0);
	start_rx(e);
	start_tx(e);
	return 0;
}
