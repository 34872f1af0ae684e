/* Starting application processors: a program copies ap_tramp_start ..
 * ap_tramp_end to AP_TRAMP, sets ap_entry and sends INIT and a SIPI with
 * vector AP_TRAMP >> 12. Each AP leaves real mode, takes the next number
 * (1, 2, ...) and a stack, and calls ap_entry(number). */
#ifndef GUEST_AP_START_H
#define GUEST_AP_START_H

#include <stdint.h>

#define AP_TRAMP 0x8000
#define AP_MAX 8 /* stacks for APs 1 .. AP_MAX */

extern char ap_tramp_start[], ap_tramp_end[];
extern void (*ap_entry)(uint32_t number);

#endif
