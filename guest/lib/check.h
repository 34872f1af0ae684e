/* One line per check of a test guest: "NAME: ok …" or "NAME: FAIL …"
 * (NAME being program_name), and a closing verdict the system tests read. */
#ifndef GUEST_CHECK_H
#define GUEST_CHECK_H

#include <stdbool.h>

/* Prints the check's line; a failed one is counted. */
__attribute__((format(printf, 2, 3))) void check(bool ok, const char *fmt, ...);

/* "NAME: N checks failed" and 1 if any failed, else "NAME: all checks
 * passed" and 0: main's return value. */
int checks_verdict(void);

#endif
