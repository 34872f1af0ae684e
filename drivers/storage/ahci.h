/* SATA disks behind AHCI host bus adapters (AHCI 1.3.1; PCI class 010601h,
 * registers in BAR5). Every port with an ATA disk becomes a blockdev named
 * ahci0, ahci1, …: one command at a time through slot 0, polled, data
 * bounced through a 64 KiB buffer. */
#ifndef PGVISOR_AHCI_H
#define PGVISOR_AHCI_H

/* Claims every AHCI function on the PCI bus (pci_scan first) and registers
 * its disks; prints one line per refused HBA or port. */
void ahci_probe(void);

#endif
