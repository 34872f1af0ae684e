/* The stub's register layout and its gdb target description. */
#include "vmm/debug/gdb_regs.h"

#include "arch/x86/lib/hex.h"
#include "vmm/debug/gdb_packet.h"

#define GDB_X87_ST_BYTES 10
#define GDB_XMM_BYTES 16
#define GDB_NARROW_BYTES 4 /* eflags, the selectors, the x87 control words, mxcsr */
#define GDB_WIDE_BYTES 8

/* regnum attributes keep the "g" order of enum gdb_reg while gdb's core
 * feature also lists the x87 registers (regnum 32 on, then xmm at 48). */
const char gdb_target_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n"
	"<architecture>i386:x86-64</architecture>\n"
	"<feature name=\"org.gnu.gdb.i386.core\">\n"
	"<flags id=\"i386_eflags\" size=\"4\"><field name=\"CF\" start=\"0\" end=\"0\"/><field "
	"name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/><field "
	"name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/><field "
	"name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/><field "
	"name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" "
	"end=\"11\"/></flags>\n"
	"<reg name=\"rax\" bitsize=\"64\" type=\"int64\" regnum=\"0\"/>\n"
	"<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>\n"
	"<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>\n"
	"<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>\n"
	"<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\" regnum=\"32\"/>\n"
	"<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"</feature>\n"
	"<feature name=\"org.gnu.gdb.i386.sse\">\n"
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/><vector id=\"v2d\" "
	"type=\"ieee_double\" count=\"2\"/><vector id=\"v16i8\" type=\"int8\" "
	"count=\"16\"/><vector id=\"v8i16\" type=\"int16\" count=\"8\"/><vector id=\"v4i32\" "
	"type=\"int32\" count=\"4\"/><vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" "
	"type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" "
	"type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" "
	"type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/></union>\n"
	"<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"48\" group=\"vector\"/>\n"
	"<reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm8\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm9\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm10\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm11\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm12\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm13\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm14\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\" group=\"vector\"/>\n"
	"<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>\n"
	"</feature>\n"
	"<feature name=\"org.gnu.gdb.i386.segments\">\n"
	"<reg name=\"fs_base\" bitsize=\"64\" type=\"int\" regnum=\"24\"/>\n"
	"<reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>\n"
	"</feature>\n"
	"<feature name=\"org.pgvisor.x86.control\">\n"
	"<reg name=\"cr0\" bitsize=\"64\" type=\"int64\" regnum=\"26\" group=\"system\"/>\n"
	"<reg name=\"cr2\" bitsize=\"64\" type=\"int64\" group=\"system\"/>\n"
	"<reg name=\"cr3\" bitsize=\"64\" type=\"int64\" group=\"system\"/>\n"
	"<reg name=\"cr4\" bitsize=\"64\" type=\"int64\" group=\"system\"/>\n"
	"<reg name=\"cr8\" bitsize=\"64\" type=\"int64\" group=\"system\"/>\n"
	"<reg name=\"efer\" bitsize=\"64\" type=\"int64\" group=\"system\"/>\n"
	"</feature>\n"
	"</target>\n";

unsigned gdb_reg_size(unsigned n)
{
	if (n == GDB_EFLAGS || (n >= GDB_CS && n <= GDB_GS))
		return GDB_NARROW_BYTES;
	if (n < GDB_REG_COUNT)
		return GDB_WIDE_BYTES;
	n -= GDB_X87_FIRST;
	if (n < GDB_X87_ST_COUNT)
		return GDB_X87_ST_BYTES;
	n -= GDB_X87_ST_COUNT;
	if (n < GDB_X87_CONTROL_COUNT)
		return GDB_NARROW_BYTES;
	n -= GDB_X87_CONTROL_COUNT;
	if (n < GDB_XMM_COUNT)
		return GDB_XMM_BYTES;
	return n == GDB_XMM_COUNT ? GDB_NARROW_BYTES : 0;
}

size_t gdb_regs_hex_len(void)
{
	size_t len = 0;

	for (unsigned n = 0; n < GDB_REG_COUNT; n++)
		len += 2 * gdb_reg_size(n);
	return len;
}

size_t gdb_reg_to_hex(const struct gdb_regs *regs, unsigned n, char *out)
{
	unsigned size = gdb_reg_size(n);

	for (unsigned i = 0; i < size; i++) {
		if (n >= GDB_REG_COUNT) {
			out[2 * i] = out[2 * i + 1] = 'x';
			continue;
		}
		uint8_t byte = (uint8_t)(regs->r[n] >> (8 * i));

		out[2 * i] = hex_char(byte >> 4);
		out[2 * i + 1] = hex_char(byte);
	}
	return 2 * (size_t)size;
}

bool gdb_reg_from_hex(struct gdb_regs *regs, unsigned n, const char *hex, size_t len)
{
	uint64_t v = 0;

	if (n >= GDB_REG_COUNT || len != 2 * (size_t)gdb_reg_size(n))
		return false;
	for (size_t i = 0; i < len / 2; i++) {
		int high = hex_value(hex[2 * i]);
		int low = hex_value(hex[2 * i + 1]);

		if (high < 0 || low < 0)
			return false;
		v |= (uint64_t)(high << 4 | low) << (8 * i);
	}
	regs->r[n] = v;
	return true;
}

size_t gdb_regs_to_hex(const struct gdb_regs *regs, char *out)
{
	size_t len = 0;

	for (unsigned n = 0; n < GDB_REG_COUNT; n++)
		len += gdb_reg_to_hex(regs, n, out + len);
	return len;
}

bool gdb_regs_from_hex(struct gdb_regs *regs, const char *hex, size_t len)
{
	struct gdb_regs parsed = *regs;
	size_t at = 0;

	if (len != gdb_regs_hex_len())
		return false;
	for (unsigned n = 0; n < GDB_REG_COUNT; n++) {
		size_t digits = 2 * (size_t)gdb_reg_size(n);

		if (!gdb_reg_from_hex(&parsed, n, hex + at, digits))
			return false;
		at += digits;
	}
	*regs = parsed;
	return true;
}
