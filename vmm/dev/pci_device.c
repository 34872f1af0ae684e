#include "vmm/dev/pci_device.h"

#include <stddef.h>
#include <string.h>

#define HEADER_TYPE_NORMAL 0x00
#define BAR_IO_SPACE 0x1u
#define BAR_MEM_TYPE_MASK 0xfu
#define BAR_IO_TYPE_MASK 0x3u
#define BAR_MEM_MIN 16
#define BAR_IO_MIN 4
#define COMMAND_WRITABLE                                                                           \
	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE)
#define MSIX_CAP_LEN 12
#define MSIX_CTRL 2 /* message control, from the capability's start */
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 1
#define MSIX_ENTRY_DATA 2
#define MSIX_ENTRY_CTRL 3
#define CAP_NEXT 1

static void put_cfg(struct pci_device *d, unsigned off, unsigned size, uint32_t v)
{
	pci_put_le(d->cfg + off, size, v);
}

void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision, const struct pci_device_ops *ops,
		     void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->ops = ops;
	d->ctx = ctx;
	put_cfg(d, PCI_CFG_VENDOR, 2, vendor);
	put_cfg(d, PCI_CFG_DEVICE, 2, device);
	put_cfg(d, PCI_CFG_REVISION, 1, revision);
	put_cfg(d, PCI_CFG_CLASS_PROG, 3, class_code);
	put_cfg(d, PCI_CFG_HEADER_TYPE, 1, HEADER_TYPE_NORMAL);
	put_cfg(d, PCI_CFG_SUBSYS_VENDOR, 2, vendor);
	put_cfg(d, PCI_CFG_SUBSYS_ID, 2, device);
	pci_put_le(d->wmask + PCI_CFG_COMMAND, 2, COMMAND_WRITABLE);
	d->wmask[PCI_CFG_INTERRUPT_LINE] = 0xff;
	d->next_cap = PCI_CFG_FIRST_CAP;
}

int pci_device_set_bar(struct pci_device *d, unsigned bar, enum pci_bar_kind kind, uint32_t size,
		       uint32_t base)
{
	uint32_t min = kind == PCI_BAR_IO ? BAR_IO_MIN : BAR_MEM_MIN;
	uint32_t type = kind == PCI_BAR_IO ? BAR_IO_SPACE : 0;
	uint32_t low = kind == PCI_BAR_IO ? BAR_IO_TYPE_MASK : BAR_MEM_TYPE_MASK;
	unsigned off = PCI_CFG_BAR0 + 4 * bar;

	if (bar >= PCI_NUM_BARS || kind == PCI_BAR_NONE || size < min || (size & (size - 1)) ||
	    (base & (size - 1)))
		return -1;
	d->bars[bar] = (struct pci_bar){ kind, size };
	put_cfg(d, off, 4, (base & ~low) | type);
	/* Sizing (PCI 3.0, 6.2.5.1): the bits below the size read back 0. */
	pci_put_le(d->wmask + off, 4, ~(size - 1) & ~low);
	return 0;
}

uint32_t pci_device_bar_base(const struct pci_device *d, unsigned bar)
{
	uint16_t command = (uint16_t)pci_get_le(d->cfg + PCI_CFG_COMMAND, 2);
	uint32_t reg = pci_get_le(d->cfg + PCI_CFG_BAR0 + 4 * bar, 4);

	switch (d->bars[bar].kind) {
	case PCI_BAR_MEM32:
		return command & PCI_COMMAND_MEMORY ? reg & ~BAR_MEM_TYPE_MASK : 0;
	case PCI_BAR_IO:
		return command & PCI_COMMAND_IO ? reg & ~BAR_IO_TYPE_MASK : 0;
	default:
		return 0;
	}
}

uint8_t pci_add_capability(struct pci_device *d, uint8_t id, uint8_t len)
{
	uint8_t at = d->next_cap;

	if (len < 2 || at + len > PCI_CFG_SIZE)
		return 0;
	/* Prepend to the list: the pointer and each next field only ever
	 * name capabilities already written. */
	d->cfg[at] = id;
	d->cfg[at + CAP_NEXT] = d->cfg[PCI_CFG_CAP_PTR];
	d->cfg[PCI_CFG_CAP_PTR] = at;
	put_cfg(d, PCI_CFG_STATUS, 2, pci_get_le(d->cfg + PCI_CFG_STATUS, 2) | PCI_STATUS_CAP_LIST);
	/* Capabilities stay dword-aligned (PCI 3.0, 6.7). */
	d->next_cap = (uint8_t)((at + len + 3) & ~3);
	if (d->next_cap < at) /* wrapped past the end */
		d->next_cap = 0xff;
	return at;
}

int pci_device_add_msix(struct pci_device *d, unsigned nvec, unsigned bar, uint32_t table_off,
			uint32_t pba_off)
{
	struct pci_msix *m = &d->msix;
	uint8_t at;

	if (!nvec || nvec > PCI_MSIX_MAX_VECTORS || bar >= PCI_NUM_BARS ||
	    d->bars[bar].kind != PCI_BAR_MEM32 || (table_off & 7) || (pba_off & 7) ||
	    table_off + nvec * PCI_MSIX_ENTRY_SIZE > d->bars[bar].size ||
	    pba_off + 8 > d->bars[bar].size)
		return -1;
	at = pci_add_capability(d, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (!at)
		return -1;
	*m = (struct pci_msix){ .cap = at,
				.bar = (uint8_t)bar,
				.nvec = (uint16_t)nvec,
				.table_off = table_off,
				.pba_off = pba_off };
	put_cfg(d, at + MSIX_CTRL, 2, nvec - 1);
	put_cfg(d, at + MSIX_TABLE, 4, table_off | bar);
	put_cfg(d, at + MSIX_PBA, 4, pba_off | bar);
	pci_put_le(d->wmask + at + MSIX_CTRL, 2, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	/* Every vector starts masked (PCI 3.0, 6.8.2.9). */
	for (unsigned i = 0; i < nvec; i++)
		m->table[i][MSIX_ENTRY_CTRL] = PCI_MSIX_ENTRY_CTRL_MASKED;
	return 0;
}

static uint16_t msix_control(const struct pci_device *d)
{
	return (uint16_t)pci_get_le(d->cfg + d->msix.cap + MSIX_CTRL, 2);
}

bool pci_msix_enabled(const struct pci_device *d)
{
	return d->msix.cap && (msix_control(d) & PCI_MSIX_CTRL_ENABLE);
}

static bool vector_masked(const struct pci_device *d, unsigned v)
{
	return (msix_control(d) & PCI_MSIX_CTRL_MASKALL) ||
	       (d->msix.table[v][MSIX_ENTRY_CTRL] & PCI_MSIX_ENTRY_CTRL_MASKED);
}

static void send_vector(struct pci_device *d, unsigned v)
{
	const uint32_t *e = d->msix.table[v];

	d->msix.pending &= ~(1u << v);
	if (d->msi_send)
		d->msi_send(d->msi_ctx,
			    (uint64_t)e[MSIX_ENTRY_ADDR_HI] << 32 | e[MSIX_ENTRY_ADDR_LO],
			    e[MSIX_ENTRY_DATA]);
}

void pci_msix_notify(struct pci_device *d, unsigned vector)
{
	if (vector >= d->msix.nvec || !pci_msix_enabled(d))
		return;
	if (vector_masked(d, vector))
		d->msix.pending |= 1u << vector;
	else
		send_vector(d, vector);
}

/* A vector or the function was unmasked: what waited goes now. */
static void msix_send_pending(struct pci_device *d)
{
	if (!pci_msix_enabled(d))
		return;
	for (unsigned v = 0; v < d->msix.nvec; v++)
		if ((d->msix.pending & (1u << v)) && !vector_masked(d, v))
			send_vector(d, v);
}

static void update_intx(struct pci_device *d)
{
	uint16_t command = (uint16_t)pci_get_le(d->cfg + PCI_CFG_COMMAND, 2);
	uint16_t status = (uint16_t)pci_get_le(d->cfg + PCI_CFG_STATUS, 2);
	uint8_t pin = d->cfg[PCI_CFG_INTERRUPT_PIN];
	bool line =
		d->intx_asserted && !(command & PCI_COMMAND_INTX_DISABLE) && !pci_msix_enabled(d);

	status = d->intx_asserted ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT;
	put_cfg(d, PCI_CFG_STATUS, 2, status);
	if (pin && d->slot && d->slot <= PCI_INTX_SLOTS && d->intx_send)
		d->intx_send(d->msi_ctx, pci_intx_gsi(d->slot, pin - 1u), line);
}

void pci_device_set_intx(struct pci_device *d, bool level)
{
	d->intx_asserted = level;
	update_intx(d);
}

static bool in_config(unsigned off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && off < PCI_CFG_SIZE &&
	       off + size <= PCI_CFG_SIZE;
}

uint32_t pci_device_config_read(struct pci_device *d, unsigned off, unsigned size)
{
	uint32_t v;

	if (!in_config(off, size))
		return size < 4 ? (1u << (8 * size)) - 1 : 0xffffffffu;
	if (d->ops && d->ops->config_read && d->ops->config_read(d, off, size, &v))
		return v;
	return pci_get_le(d->cfg + off, size);
}

void pci_device_config_write(struct pci_device *d, unsigned off, unsigned size, uint32_t value)
{
	if (!in_config(off, size))
		return;
	if (d->ops && d->ops->config_write && d->ops->config_write(d, off, size, value))
		return;
	for (unsigned i = 0; i < size; i++) {
		uint8_t m = d->wmask[off + i], b = (uint8_t)(value >> (8 * i));
		d->cfg[off + i] = (uint8_t)((d->cfg[off + i] & ~m) | (b & m));
	}
	if (d->msix.cap && off <= d->msix.cap + MSIX_CTRL + 1u && off + size > d->msix.cap)
		msix_send_pending(d);
	/* INTx-disable or MSI-X enable may have changed where the line goes. */
	if (d->intx_asserted)
		update_intx(d);
}

static bool in_region(uint32_t offset, unsigned size, uint32_t start, uint32_t len)
{
	return offset >= start && offset - start < len && size <= len - (offset - start);
}

uint64_t pci_device_bar_read(struct pci_device *d, unsigned bar, uint32_t offset, unsigned size)
{
	struct pci_msix *m = &d->msix;
	uint64_t v = 0;

	if (m->cap && bar == m->bar) {
		if (in_region(offset, size, m->table_off, m->nvec * PCI_MSIX_ENTRY_SIZE)) {
			const uint8_t *t = (const uint8_t *)m->table + (offset - m->table_off);
			for (unsigned i = 0; i < size; i++)
				v |= (uint64_t)t[i] << (8 * i);
			return v;
		}
		if (in_region(offset, size, m->pba_off, 8))
			return (uint64_t)m->pending >> (8 * (offset - m->pba_off));
	}
	return d->ops && d->ops->bar_read ? d->ops->bar_read(d, bar, offset, size) : 0;
}

void pci_device_bar_write(struct pci_device *d, unsigned bar, uint32_t offset, unsigned size,
			  uint64_t value)
{
	struct pci_msix *m = &d->msix;

	if (m->cap && bar == m->bar) {
		if (in_region(offset, size, m->table_off, m->nvec * PCI_MSIX_ENTRY_SIZE)) {
			uint8_t *t = (uint8_t *)m->table + (offset - m->table_off);
			for (unsigned i = 0; i < size; i++)
				t[i] = (uint8_t)(value >> (8 * i));
			msix_send_pending(d);
			return;
		}
		if (in_region(offset, size, m->pba_off, 8))
			return; /* the PBA is read-only */
	}
	if (d->ops && d->ops->bar_write)
		d->ops->bar_write(d, bar, offset, size, value);
}

void pci_device_save(const struct pci_device *d, struct state_writer *w)
{
	state_put_bytes(w, d->cfg, PCI_CFG_SIZE);
	state_put_bool(w, d->intx_asserted);
	state_put_u16(w, d->msix.nvec);
	for (unsigned v = 0; v < d->msix.nvec; v++)
		for (unsigned i = 0; i < PCI_MSIX_ENTRY_SIZE / 4; i++)
			state_put_u32(w, d->msix.table[v][i]);
	state_put_u32(w, d->msix.pending);
}

int pci_device_load(struct pci_device *d, struct state_reader *r)
{
	uint8_t cfg[PCI_CFG_SIZE];
	uint32_t table[PCI_MSIX_MAX_VECTORS][PCI_MSIX_ENTRY_SIZE / 4];
	uint32_t pending;
	bool intx;
	uint16_t nvec;

	state_get_bytes(r, cfg, sizeof(cfg));
	intx = state_get_bool(r);
	nvec = state_get_u16(r);
	if (nvec != d->msix.nvec) {
		state_refuse(r, "PCI function: another MSI-X table size than this VM's device");
		return -1;
	}
	for (unsigned v = 0; v < nvec; v++)
		for (unsigned i = 0; i < PCI_MSIX_ENTRY_SIZE / 4; i++)
			table[v][i] = state_get_u32(r);
	pending = state_get_u32(r);
	if (nvec < 32 && (pending >> nvec))
		state_refuse(r, "PCI function: MSI-X pending bits past its table");
	/* The status register's interrupt bit follows the INTx level. */
	if (!!(cfg[PCI_CFG_STATUS] & PCI_STATUS_INTERRUPT) != intx)
		state_refuse(r, "PCI function: interrupt status bit differs from its INTx level");
	for (unsigned i = 0; i < PCI_CFG_SIZE; i++) {
		uint8_t ro = (uint8_t)~d->wmask[i];
		if (i == PCI_CFG_STATUS)
			ro &= (uint8_t)~PCI_STATUS_INTERRUPT;
		if ((cfg[i] ^ d->cfg[i]) & ro) {
			state_refuse(r, "PCI function: read-only configuration bits differ from "
					"this VM's device");
			break;
		}
	}
	if (r->refused)
		return -1;
	memcpy(d->cfg, cfg, sizeof(cfg));
	memcpy(d->msix.table, table, sizeof(table[0]) * nvec);
	d->msix.pending = pending;
	d->intx_asserted = intx;
	return 0;
}
