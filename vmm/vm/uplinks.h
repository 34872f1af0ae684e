/* The machine's NICs as bridges' uplinks, as pgvisor's command line says:
 * "bridge=NAME:NIC" (several allowed, one NIC each) makes NIC (nic0, ...,
 * drivers/net/netdev.h) a port of the bridge NAME that VMs' vifs name
 * (vif = [ 'bridge=NAME' ]). See vmm/dev/net_uplink.h. */
#ifndef PGVISOR_UPLINKS_H
#define PGVISOR_UPLINKS_H

#include <stdbool.h>

#define UPLINKS_OPTION "bridge="

/* Attaches every uplink the command line names; one line for each, and
 * one for each that cannot be (an unknown NIC, one named twice, a bad
 * bridge name). */
void uplinks_init(const char *cmdline);
/* One line for each uplinked bridge no VM uses now. */
void uplinks_check_used(void);
bool uplinks_present(void);
/* Moves frames between the NICs and their bridges; any CPU, any time. */
void uplinks_poll(void);

#endif
