#ifndef PGVISOR_SUMMARY_H
#define PGVISOR_SUMMARY_H

/* Prints how every VM ended and its exit counts by reason, then the
 * result line scripts/run judges a run by. Returns true when every VM
 * succeeded. */
bool summary_print(void);

#endif
