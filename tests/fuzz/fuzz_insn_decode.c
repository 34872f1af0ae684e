/* libFuzzer harness: the instruction decoder (vmm/cpu/insn_decode.c) on the
 * bytes a guest left at its RIP. The first byte picks the CPU mode, the
 * rest are the instruction bytes fetched. A decoded instruction must stay
 * within those bytes and name a register and sizes that exist. */
#include <stdlib.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/cpu/insn_decode.h"
#include "vmm/vm/vcpu.h"

#define MODES 3

static bool valid_size(unsigned s)
{
	return s == 1 || s == 2 || s == 4 || s == 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct insn in;

	if (size < 1)
		return 0;
	enum insn_mode mode = (enum insn_mode)(data[0] % MODES);
	uint8_t *bytes = fuzz_copy(data + 1, size - 1);
	if (insn_decode(bytes, size - 1, mode, &in) == 0) {
		if (in.len == 0 || in.len > size - 1 || in.len > INSN_MAX_LEN ||
		    in.reg >= GPR_COUNT || !valid_size(in.size) || !valid_size(in.mem_size) ||
		    !valid_size(in.addr_size) || in.mem_size > in.size || in.seg > INSN_SEG_NONE)
			abort();
	}
	free(bytes);
	return 0;
}
