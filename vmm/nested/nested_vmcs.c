#include "vmm/nested/nested_vmcs.h"

#include <stddef.h>

/* Field encoding (SDM Vol. 3 24.11.2): bit 0 the high half of a 64-bit
 * field, bits 9:1 the index, 11:10 the type, 14:13 the width. */
#define ENC_HIGH 1u
#define ENC_INDEX_MASK 0x3feu
#define ENC_TYPE_SHIFT 10
#define ENC_TYPE_MASK 3u
#define ENC_TYPE_EXIT_INFO 1u
#define ENC_TYPE_GUEST 2u
#define ENC_WIDTH_SHIFT 13
#define ENC_WIDTH_MASK 3u
#define WIDTH_16 0u
#define WIDTH_64 1u
#define WIDTH_32 2u
#define HALF_BITS 32
#define LOW16 0xffffull
#define LOW32 0xffffffffull

/* Every field of SDM Vol. 3 appendix B the virtual CPU has, by full
 * encoding; a field's storage is its position here, in runs
 * (nested_vmcs.h): what L1 writes often from NESTED_VMCS_WRITTEN_FIRST,
 * what an exit from L2 to L1 may change from NESTED_VMCS_EXIT_FIRST on. */
static const uint16_t fields[NESTED_VMCS_FIELDS] = {
	/* Controls and host state L1 sets up once, by encoding: 16-bit
	 * (B.1.1, B.1.3), 64-bit (B.2.1, B.2.4), 32-bit (B.3.1, B.3.4),
	 * natural-width (B.4.1, B.4.4). */
	0x0000,
	0x0002,
	0x0004,
	0x0c00,
	0x0c02,
	0x0c04,
	0x0c06,
	0x0c08,
	0x0c0a,
	0x0c0c,
	0x2000,
	0x2002,
	0x2004,
	0x2006,
	0x2008,
	0x200a,
	0x200c,
	0x200e,
	0x2012,
	0x2014,
	0x2016,
	0x2018,
	0x201a,
	0x201c,
	0x201e,
	0x2020,
	0x2022,
	0x2024,
	0x2026,
	0x2028,
	0x202a,
	0x202c,
	0x202e,
	0x2032,
	0x2c00,
	0x2c02,
	0x2c04,
	0x4000,
	0x4006,
	0x4008,
	0x400a,
	0x400c,
	0x400e,
	0x4010,
	0x4014,
	0x4020,
	0x4022,
	0x4c00,
	0x6000,
	0x6002,
	0x6008,
	0x600a,
	0x600c,
	0x600e,
	0x6c00,
	0x6c02,
	0x6c04,
	0x6c06,
	0x6c08,
	0x6c0a,
	0x6c0c,
	0x6c0e,
	0x6c10,
	0x6c12,
	0x6c16,
	/* From NESTED_VMCS_WRITTEN_FIRST the fields L1 writes often, from
	 * NESTED_VMCS_L2_STATE_FIRST L2's state, from
	 * NESTED_VMCS_EXIT_INFO_FIRST the exit information an exit writes, */
	NESTED_VMCS_WRITTEN_CONTROLS NESTED_VMCS_WRITTEN_GUEST NESTED_VMCS_L2_STATE_LIST
		NESTED_VMCS_EXIT_INFO_LIST
	/* then the rest of the exit information (B.3.2, B.4.2): the
	 * VM-instruction error, I/O RCX, RSI, RDI, RIP; and the guest interrupt
	 * status, PML index, DEBUGCTL, PAT, EFER, PERF_GLOBAL_CTRL, BNDCFGS,
	 * SMBASE and DR7. */
	0x4400,
	0x6402,
	0x6404,
	0x6406,
	0x6408,
	0x0810,
	0x0812,
	0x2802,
	0x2804,
	0x2806,
	0x2808,
	0x2812,
	0x4828,
	0x681a,
};

_Static_assert(sizeof(fields) / sizeof(fields[0]) == NESTED_VMCS_FIELDS, "every slot named");
_Static_assert(NESTED_VMCS_WRITTEN_FIRST == 65, "the controls and host state first");

/* The field's slot, or -1: by a table indexed by the encoding's width and
 * type (bits 14:13, 11:10) and its index (bits 9:1), filled at the first
 * lookup (every CPU that races to it writes the same bytes); it runs for
 * every field at every entry into L2 and exit from it. */
#define GROUP_SHIFT 10
#define GROUP_MASK 0x1bu /* width (bits 14:13) and type (11:10), bit 12 clear */
#define GROUP_WIDTH_SHIFT 3
#define GROUPS 16
#define INDEX_MAX 32	     /* above every field's index (the highest is 0x19) */
#define ENC_RESERVED 0x1000u /* bit 12: reserved, 0 in every field */

static uint8_t slot_plus1[GROUPS][INDEX_MAX];
static bool slots_built;

static unsigned group_of(uint32_t enc)
{
	unsigned g = (enc >> GROUP_SHIFT) & GROUP_MASK;

	return (g & ENC_TYPE_MASK) | (g >> GROUP_WIDTH_SHIFT) << 2;
}

static int slot_of(uint32_t full)
{
	if (!__atomic_load_n(&slots_built, __ATOMIC_ACQUIRE)) {
		for (size_t i = 0; i < NESTED_VMCS_FIELDS; i++)
			slot_plus1[group_of(fields[i])][(fields[i] & ENC_INDEX_MASK) >> 1] =
				(uint8_t)(i + 1);
		__atomic_store_n(&slots_built, true, __ATOMIC_RELEASE);
	}
	unsigned index = (full & ENC_INDEX_MASK) >> 1;
	if ((full & (ENC_HIGH | ENC_RESERVED)) || full >> 15 || index >= INDEX_MAX)
		return -1;
	int slot = slot_plus1[group_of(full)][index] - 1;
	return slot >= 0 && fields[slot] == full ? slot : -1;
}

static unsigned width_of(uint32_t encoding)
{
	return (encoding >> ENC_WIDTH_SHIFT) & ENC_WIDTH_MASK;
}

/* The slot for an instruction's encoding operand, with whether it names
 * the high half of a 64-bit field; -1 for anything else, including bits
 * above 15 (SDM 24.11.2: bits 31:15 are reserved). */
static int lookup(uint64_t encoding, bool *high)
{
	if (encoding >> 15)
		return -1;
	uint32_t enc = (uint32_t)encoding;
	*high = enc & ENC_HIGH;
	if (*high && width_of(enc) != WIDTH_64)
		return -1; /* only 64-bit fields have a high access */
	return slot_of(enc & ~ENC_HIGH);
}

static uint64_t truncate(uint32_t encoding, uint64_t value)
{
	switch (width_of(encoding)) {
	case WIDTH_16:
		return value & LOW16;
	case WIDTH_32:
		return value & LOW32;
	default:
		return value;
	}
}

enum nested_vmcs_access nested_vmcs_read(const struct nested_vmcs *vmcs, uint64_t encoding,
					 uint64_t *value)
{
	bool high;
	int slot = lookup(encoding, &high);

	if (slot < 0)
		return NESTED_VMCS_UNSUPPORTED;
	*value = high ? vmcs->field[slot] >> HALF_BITS : vmcs->field[slot];
	return NESTED_VMCS_OK;
}

enum nested_vmcs_access nested_vmcs_write(struct nested_vmcs *vmcs, uint64_t encoding,
					  uint64_t value)
{
	bool high;
	int slot = lookup(encoding, &high);

	if (slot < 0)
		return NESTED_VMCS_UNSUPPORTED;
	if (nested_vmcs_is_read_only((uint32_t)encoding))
		return NESTED_VMCS_READ_ONLY;
	if (high)
		vmcs->field[slot] = (vmcs->field[slot] & LOW32) | ((value & LOW32) << HALF_BITS);
	else
		vmcs->field[slot] = truncate((uint32_t)encoding, value);
	return NESTED_VMCS_OK;
}

uint64_t nested_vmcs_get(const struct nested_vmcs *vmcs, uint32_t encoding)
{
	int slot = slot_of(encoding);

	return slot < 0 ? 0 : vmcs->field[slot];
}

void nested_vmcs_set(struct nested_vmcs *vmcs, uint32_t encoding, uint64_t value)
{
	int slot = slot_of(encoding);

	if (slot >= 0)
		vmcs->field[slot] = truncate(encoding, value);
}

int nested_vmcs_slot(uint32_t encoding)
{
	return slot_of(encoding);
}

uint32_t nested_vmcs_field(unsigned i)
{
	return i < NESTED_VMCS_FIELDS ? fields[i] : 0;
}

bool nested_vmcs_is_guest_state(uint32_t encoding)
{
	return ((encoding >> ENC_TYPE_SHIFT) & ENC_TYPE_MASK) == ENC_TYPE_GUEST;
}

bool nested_vmcs_is_64bit(uint32_t encoding)
{
	return width_of(encoding) == WIDTH_64;
}

bool nested_vmcs_is_read_only(uint32_t encoding)
{
	return ((encoding >> ENC_TYPE_SHIFT) & ENC_TYPE_MASK) == ENC_TYPE_EXIT_INFO;
}

uint64_t nested_vmcs_enum(void)
{
	uint64_t highest = 0;

	for (size_t i = 0; i < NESTED_VMCS_FIELDS; i++)
		if ((fields[i] & ENC_INDEX_MASK) > highest)
			highest = fields[i] & ENC_INDEX_MASK;
	return highest;
}
