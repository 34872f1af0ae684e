#ifndef PGVISOR_E1000_PCI_H
#define PGVISOR_E1000_PCI_H

/* Scans the machine's PCI bus (once) and drives every 8254x controller
 * found, registering each as a netdev; one line for each that fails. */
void e1000_probe_all(void);

#endif
