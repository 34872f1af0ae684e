#include "drivers/storage/storage.h"

#include "drivers/console.h"
#include "drivers/pci.h"
#include "drivers/storage/ahci.h"
#include "drivers/storage/ata.h"
#include "drivers/storage/blockdev.h"
#include "drivers/storage/gpt.h"
#include "drivers/storage/nvme.h"

void storage_init(void)
{
	char why[160];

	pci_scan();
	ata_probe();
	ahci_probe();
	nvme_probe();
	for (unsigned i = 0; i < blockdev_count(); i++) {
		struct blockdev *d = blockdev_get(i);
		if (gpt_scan(d, why, sizeof(why)))
			kprintf("pgvisor: disk %s: not used: %s\n", d->name, why);
	}
}
