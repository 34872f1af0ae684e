/* Intel 8254x (e1000) Gigabit Ethernet controllers: the 82540EM that Bochs
 * and QEMU emulate, and the parts whose registers match it (PCI/PCI-X
 * Family of Gigabit Ethernet Controllers Software Developer's Manual, rev.
 * 4.0; "SDM" below). Polled: interrupts stay masked. One receive ring and
 * one transmit ring of legacy descriptors, each buffer 2 KiB, copied in
 * and out (frames are at most 1518 bytes, so one buffer holds one frame).
 *
 * This file knows the registers and rings only; e1000_pci.c finds the
 * controllers on the machine's PCI bus. Not thread-safe: netdev.c holds
 * the locks. */
#ifndef PGVISOR_E1000_H
#define PGVISOR_E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/net/netdev.h"

#define E1000_MMIO_SIZE 0x20000 /* BAR0: 128 KiB of registers (SDM 13.1) */
#define E1000_RX_DESCS 32	/* RDLEN: a multiple of 8 descriptors (SDM 13.4.27) */
#define E1000_TX_DESCS 32	/* TDLEN: likewise (SDM 13.4, TDLEN) */
#define E1000_BUF_SIZE 2048	/* RCTL.BSIZE 00b, BSEX 0 (SDM 13.4.22) */

/* Register offsets (SDM 13.4, table 13-2). */
#define E1000_CTRL 0x0000
#define E1000_STATUS 0x0008
#define E1000_EERD 0x0014
#define E1000_MDIC 0x0020
#define E1000_ICR 0x00c0
#define E1000_IMC 0x00d8
#define E1000_RCTL 0x0100
#define E1000_TCTL 0x0400
#define E1000_TIPG 0x0410
#define E1000_RDBAL 0x2800
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808
#define E1000_RDH 0x2810
#define E1000_RDT 0x2818
#define E1000_TDBAL 0x3800
#define E1000_TDBAH 0x3804
#define E1000_TDLEN 0x3808
#define E1000_TDH 0x3810
#define E1000_TDT 0x3818
#define E1000_MPC 0x4010 /* missed packets: no free receive buffer (SDM 13.7) */
#define E1000_MTA 0x5200 /* 128 dwords of multicast hash (SDM 13.4, MTA) */
#define E1000_RAL0 0x5400
#define E1000_RAH0 0x5404

#define E1000_MTA_DWORDS 128

/* CTRL (SDM 13.4.1). */
#define E1000_CTRL_ASDE (1u << 5) /* speed from the PHY's auto-negotiation */
#define E1000_CTRL_SLU (1u << 6)  /* set link up: the MAC follows the PHY's link */
#define E1000_CTRL_RST (1u << 26) /* global reset; self-clearing */
/* STATUS (SDM 13.4.2). */
#define E1000_STATUS_LU (1u << 1) /* link up */
/* EERD (SDM 13.4.4): read one 16-bit EEPROM word. */
#define E1000_EERD_START (1u << 0)
#define E1000_EERD_DONE (1u << 4)
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16
/* MDIC (SDM 13.4, MDI Control): the PHY's registers. */
#define E1000_MDIC_REG_SHIFT 16
#define E1000_MDIC_PHY_SHIFT 21
#define E1000_MDIC_PHY_ADDR 1u /* the internal PHY's address */
#define E1000_MDIC_OP_WRITE (1u << 26)
#define E1000_MDIC_OP_READ (2u << 26)
#define E1000_MDIC_READY (1u << 28)
#define E1000_MDIC_ERROR (1u << 30)
#define E1000_MDIC_DATA_MASK 0xffffu
/* PHY control register 0 (IEEE 802.3 22.2.4.1; SDM 13.5). */
#define E1000_PHY_CTRL 0
#define E1000_PHY_CTRL_LOOPBACK (1u << 14) /* transmitted frames come back */
/* RAH (SDM 13.4, Receive Address High). */
#define E1000_RAH_AV (1u << 31) /* the address is valid */
/* RCTL (SDM 13.4.22). */
#define E1000_RCTL_EN (1u << 1)	    /* receiver enable */
#define E1000_RCTL_UPE (1u << 3)    /* unicast promiscuous: every VM's MAC */
#define E1000_RCTL_MPE (1u << 4)    /* multicast promiscuous (IPv6 ND) */
#define E1000_RCTL_BAM (1u << 15)   /* accept broadcast (ARP) */
#define E1000_RCTL_SECRC (1u << 26) /* strip the FCS: lengths are frames' */
/* TCTL (SDM 13.4, table 13-76): collision threshold and distance as
 * recommended there for full duplex. */
#define E1000_TCTL_EN (1u << 1)
#define E1000_TCTL_PSP (1u << 3) /* pad short packets to 64 bytes */
#define E1000_TCTL_CT (0x0fu << 4)
#define E1000_TCTL_COLD (0x40u << 12) /* full duplex */
/* TIPG for the 82540's copper PHY (SDM 13.4, TIPG): IPGT 10, IPGR1 8, IPGR2 6. */
#define E1000_TIPG_COPPER (10u | 8u << 10 | 6u << 20)

/* Legacy receive descriptor (SDM 3.2.3). */
struct e1000_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t checksum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};
#define E1000_RXD_STAT_DD (1u << 0)  /* descriptor done */
#define E1000_RXD_STAT_EOP (1u << 1) /* last descriptor of the frame */
#define E1000_RXD_ERR_FRAME 0x97u    /* CE, SE, SEQ, CXE, RXE: a bad frame (SDM 3.2.3.2) */

/* Legacy transmit descriptor (SDM 3.3.3). */
struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};
#define E1000_TXD_CMD_EOP (1u << 0)  /* end of packet */
#define E1000_TXD_CMD_IFCS (1u << 1) /* insert the FCS */
#define E1000_TXD_CMD_RS (1u << 3)   /* report status: DD when sent */
#define E1000_TXD_STAT_DD (1u << 0)

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "SDM 3.2.3");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "SDM 3.3.3");

/* What the controller reads and writes by DMA: physical addresses are the
 * hypervisor's own (identity map). Descriptor rings 128-byte aligned
 * (SDM 13.4.27): allocate this page-aligned. */
struct e1000_dma {
	struct e1000_rx_desc rx[E1000_RX_DESCS];
	struct e1000_tx_desc tx[E1000_TX_DESCS];
	uint8_t rx_buf[E1000_RX_DESCS][E1000_BUF_SIZE];
	uint8_t tx_buf[E1000_TX_DESCS][E1000_BUF_SIZE];
};

struct e1000 {
	struct netdev dev; /* dev.priv is this */
	volatile uint32_t *regs;
	struct e1000_dma *dma;
	/* Waits about us microseconds (the controller works meanwhile). */
	void (*delay_us)(void *ctx, unsigned us);
	void *delay_ctx;
	unsigned rx_next;  /* the descriptor the controller fills next */
	bool rx_discard;   /* inside a frame that spans buffers: dropped */
	unsigned tx_tail;  /* the next free transmit descriptor */
	unsigned tx_clean; /* the oldest one not yet seen done */
};

/* Resets the controller at regs, reads its MAC, sets the link up, and
 * starts both rings with interrupts masked. 0, or -1 and *why. */
int e1000_init(struct e1000 *e, volatile void *regs, struct e1000_dma *dma,
	       void (*delay_us)(void *ctx, unsigned us), void *delay_ctx, const char **why);

#endif
