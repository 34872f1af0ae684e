/* libFuzzer harness: a control-channel request line (docs/CONTROL.md) as
 * it arrives on COM2, through the JSON object parser and on into a
 * console command (vmm/console/json_request.c, control_request.c). */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/console/control_request.h"
#include "vmm/console/json_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request req;
	char err[160];

	/* The channel hands over at most one line of CONTROL_LINE_MAX bytes. */
	if (size > CONTROL_LINE_MAX)
		size = CONTROL_LINE_MAX;
	if (control_request_parse((const char *)data, size, &req, err, sizeof(err)))
		if (!memchr(err, '\0', sizeof(err)) || !err[0])
			abort(); /* every refusal says why */
	return 0;
}
