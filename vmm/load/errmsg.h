/* One-line error messages for the loaders and builders that report their
 * failures into a caller's buffer. */
#ifndef PGVISOR_ERRMSG_H
#define PGVISOR_ERRMSG_H

#include <stddef.h>

/* Formats the message into err (when err and errlen allow) and returns -1,
 * so a failing path reads "return errf(err, errlen, ...);". */
int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
