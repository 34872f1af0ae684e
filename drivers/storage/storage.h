/* The machine's own disks: finds them on every controller pgvisor drives
 * and reads their partition tables, once at boot. */
#ifndef PGVISOR_STORAGE_H
#define PGVISOR_STORAGE_H

/* Scans the PCI bus, probes every disk driver and adds the partitions of
 * each disk with a valid GPT. A disk without one is said in one line
 * ("pgvisor: disk ata0: not used: why") and boot goes on. */
void storage_init(void);

#endif
