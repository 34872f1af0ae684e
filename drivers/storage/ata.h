/* ATA disks on PCI IDE controllers (class 01h, subclass 01h: the PIIX3/
 * PIIX4 of Bochs, QEMU's i440fx machine and older boards). Polled, never
 * interrupting (nIEN set); transfers by bus-master DMA through a 64 KiB
 * bounce buffer below 4 GiB, or by PIO when the controller has no bus
 * master. Each disk found becomes a blockdev "ata0", "ata1"...; ATAPI
 * devices (the boot CD-ROM) and empty positions are skipped. */
#ifndef PGVISOR_ATA_H
#define PGVISOR_ATA_H

/* Claims every IDE controller on the scanned PCI bus (pci_scan first) and
 * registers its disks. */
void ata_probe(void);

#endif
