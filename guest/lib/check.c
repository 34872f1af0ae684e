#include "guest/lib/check.h"

#include <stdarg.h>

#include "guest/lib/console.h"
#include "guest/lib/runtime.h"

static unsigned failures;

void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s ", program_name, ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		failures++;
}

int checks_verdict(void)
{
	if (failures) {
		printf("%s: %u checks failed\n", program_name, failures);
		return 1;
	}
	printf("%s: all checks passed\n", program_name);
	return 0;
}
