/* NVMe controllers (NVMe 1.4; PCI class 010802h, registers in BAR0). Each
 * active namespace with 512-byte blocks becomes a blockdev named nvme0n1,
 * …: one admin and one I/O queue pair, polled, no interrupts, data bounced
 * through a 64 KiB buffer. Namespaces formatted with other block sizes (4
 * KiB) or with metadata are refused with one line. */
#ifndef PGVISOR_NVME_H
#define PGVISOR_NVME_H

/* Claims every NVMe function on the PCI bus (pci_scan first) and registers
 * its namespaces; prints one line per refused controller or namespace. */
void nvme_probe(void);

#endif
