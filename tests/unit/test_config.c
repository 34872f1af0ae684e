/* Unit tests for vmm/load/config.c: the xl.cfg subset and path resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/load/config.h"
#include "vmm/vmx/trap_policy.h"

#define PATH "configs/x.cfg"

static int parse_len(const char *text, size_t len, struct vm_config *c, char *err, size_t errlen)
{
	/* An exact-size heap copy, so ASan sees any read past the end. */
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	rc = config_parse(copy, len, PATH, c, err, errlen);
	free(copy);
	return rc;
}

static int parse(const char *text, struct vm_config *c, char *err)
{
	return parse_len(text, strlen(text), c, err, 256);
}

static void test_all_keys(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];
	const char *text = "# a demo VM\n"
			   "name = \"demo-1.x_Y\"\n"
			   "kernel = \"../build/guests/hello.elf\"   # relative to this file\n"
			   "ramdisk = 'initrd.img'\n"
			   "memory = 64\n"
			   "vcpus = 2\n"
			   "cmdline = \"console=ttyS0 quiet \\\"q\\\" \\\\ it's # not a comment\"\n"
			   "modules = [ \"a.bin\", 'sub/b.txt', ]\n"
			   "on_poweroff = \"restart\"\n"
			   "on_crash = \"preserve\"\n";

	assert_int_equal(parse(text, &c, err), 0);
	assert_string_equal(err, "");
	assert_string_equal(c.name, "demo-1.x_Y");
	assert_string_equal(c.kernel, "build/guests/hello.elf");
	assert_string_equal(c.ramdisk, "configs/initrd.img");
	assert_int_equal(c.memory_mib, 64);
	assert_int_equal(c.vcpus, 2);
	assert_string_equal(c.cmdline, "console=ttyS0 quiet \"q\" \\ it's # not a comment");
	assert_int_equal(c.nmodules, 2);
	assert_string_equal(c.modules[0], "configs/a.bin");
	assert_string_equal(c.modules[1], "configs/sub/b.txt");
	assert_int_equal(c.on_poweroff, VM_ACTION_RESTART);
	assert_int_equal(c.on_crash, VM_ACTION_PRESERVE);
}

static void test_defaults(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];

	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(parse("name = \"a\"\nkernel = \"k.elf\"", &c, err), 0);
	assert_string_equal(c.name, "a");
	assert_string_equal(c.kernel, "configs/k.elf");
	assert_string_equal(c.ramdisk, "");
	assert_string_equal(c.cmdline, "");
	assert_int_equal(c.memory_mib, 16);
	assert_int_equal(c.vcpus, 1);
	assert_int_equal(c.nmodules, 0);
	assert_int_equal(c.on_poweroff, VM_ACTION_DESTROY);
	assert_int_equal(c.on_crash, VM_ACTION_DESTROY);
	assert_int_equal(c.on_unbacked, VM_UNBACKED_IGNORE);
	assert_int_equal(c.ndisks, 0);
	assert_int_equal(c.nvifs, 0);
	assert_false(c.virtio_console);
}

static void test_whitespace_and_comments(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];
	const char *text = "\xEF\xBB\xBF"
			   "\r\n"
			   "   # only a comment\r\n"
			   "\t\r\n"
			   "name=\"x\"#no space before the comment\r\n"
			   "\tkernel\t=\t'/abs/./k.elf'\t\r\n"
			   "  memory =1\n"
			   "vcpus= 8 # max\n"
			   "cmdline = \"\"\n"
			   "ramdisk = \"\"\n"
			   "#last line without a newline";

	assert_int_equal(parse(text, &c, err), 0);
	assert_string_equal(c.name, "x");
	assert_string_equal(c.kernel, "/abs/k.elf");
	assert_int_equal(c.memory_mib, 1);
	assert_int_equal(c.vcpus, 8);
	assert_string_equal(c.cmdline, "");
	assert_string_equal(c.ramdisk, "");
}

/* xl also ends a setting with ';', so several may share a line. */
static void test_semicolons(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];

	assert_int_equal(parse("name = \"b\"; kernel = \"../images//k.elf\"\n"
			       "ramdisk = \"files/m.txt\";\n"
			       "memory = 8 ;vcpus = 2; # two\n"
			       "modules = [ \"m\" ];",
			       &c, err),
			 0);
	assert_string_equal(c.name, "b");
	assert_string_equal(c.kernel, "images/k.elf");
	assert_string_equal(c.ramdisk, "configs/files/m.txt");
	assert_int_equal(c.memory_mib, 8);
	assert_int_equal(c.vcpus, 2);
	assert_int_equal(c.nmodules, 1);
}

static void test_lists(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];

	assert_int_equal(parse("name=\"a\"\nkernel=\"k\"\nmodules = []\n", &c, err), 0);
	assert_int_equal(c.nmodules, 0);

	assert_int_equal(parse("name=\"a\"\nkernel=\"k\"\n"
			       "modules = [   # the modules\n"
			       "  \"m/1\",  # first\n"
			       "\n"
			       "  '../m2'\n"
			       "  , \"/m3\",\n"
			       "]\n"
			       "memory = 65536\n",
			       &c, err),
			 0);
	assert_int_equal(c.nmodules, 3);
	assert_string_equal(c.modules[0], "configs/m/1");
	assert_string_equal(c.modules[1], "m2");
	assert_string_equal(c.modules[2], "/m3");
	assert_int_equal(c.memory_mib, 65536);

	assert_int_equal(parse("name=\"a\"\nkernel=\"k\"\nmodules=[\"1\",\"2\",\"3\",\"4\",\"5\","
			       "\"6\",\"7\",\"8\"]\n",
			       &c, err),
			 0);
	assert_int_equal(c.nmodules, 8);
	assert_string_equal(c.modules[7], "configs/8");
}

static void test_limits(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256], text[4096];
	char name[VM_NAME_MAX], cmd[CFG_CMDLINE_MAX], kern[CFG_PATH_MAX];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(cmd, 'c', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = '\0';
	memset(kern, 'k', sizeof(kern) - 1);
	kern[sizeof(kern) - 1] = '\0';
	kern[0] = '/';
	snprintf(text, sizeof(text), "name = \"%s\"\nkernel = \"%s\"\ncmdline = \"%s\"\n", name,
		 kern, cmd);
	assert_int_equal(parse(text, &c, err), 0);
	assert_string_equal(c.name, name);
	assert_string_equal(c.kernel, kern);
	assert_string_equal(c.cmdline, cmd);
}

static void test_action_names(void **state)
{
	(void)state;
	assert_string_equal(vm_action_name(VM_ACTION_DESTROY), "destroy");
	assert_string_equal(vm_action_name(VM_ACTION_RESTART), "restart");
	assert_string_equal(vm_action_name(VM_ACTION_PRESERVE), "preserve");
	assert_string_equal(vm_action_name((enum vm_action)42), "?");
}

#define OK_HEAD "name = \"a\"\nkernel = \"k\"\n"
static void test_disks(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];

	assert_int_equal(parse(OK_HEAD "disk = [ \"images/root.ext4,raw,vda,rw\",\n"
				       "         \"../images/tools.img,raw,vdb,ro\",\n"
				       "         ' /abs//d.img , raw , vdz '\t,\n"
				       "         \"e.img,raw,vdc,r\" ]\n",
			       &c, err),
			 0);
	assert_string_equal(err, "");
	assert_int_equal(c.ndisks, 4);
	/* Relative to the config file, as kernel and modules are. */
	assert_string_equal(c.disks[0].target, "configs/images/root.ext4");
	assert_string_equal(c.disks[0].vdev, "vda");
	assert_true(c.disks[0].writable);
	assert_string_equal(c.disks[1].target, "images/tools.img");
	assert_string_equal(c.disks[1].vdev, "vdb");
	assert_false(c.disks[1].writable);
	/* Blanks around fields dropped; no access: writable, as in xl. */
	assert_string_equal(c.disks[2].target, "/abs/d.img");
	assert_string_equal(c.disks[2].vdev, "vdz");
	assert_true(c.disks[2].writable);
	assert_string_equal(c.disks[3].vdev, "vdc");
	assert_false(c.disks[3].writable);

	assert_int_equal(parse(OK_HEAD "disk = [ 'd.img,raw,vda,w' ]; disk2 = 1\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: unknown key 'disk2'");
	assert_int_equal(parse(OK_HEAD "disk = [ 'd.img,raw,vda,w' ]\n", &c, err), 0);
	assert_int_equal(c.ndisks, 1);
	assert_true(c.disks[0].writable);
	assert_int_equal(parse(OK_HEAD "disk = [ ]\n", &c, err), 0);
	assert_int_equal(c.ndisks, 0);
	/* A partition of the machine's disk: a name, not a path. */
	assert_int_equal(parse(OK_HEAD "disk = [ 'part:vm1-root,raw,vda,rw', "
				       "'p.img,raw,vdb', 'part:shared.data,raw,vdc,ro' ]\n",
			       &c, err),
			 0);
	assert_int_equal(c.ndisks, 3);
	assert_true(c.disks[0].partition);
	assert_string_equal(c.disks[0].target, "vm1-root");
	assert_true(c.disks[0].writable);
	assert_false(c.disks[1].partition);
	assert_string_equal(c.disks[1].target, "configs/p.img");
	assert_true(c.disks[2].partition);
	assert_string_equal(c.disks[2].target, "shared.data");
	assert_false(c.disks[2].writable);
}

static void test_vifs(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];
	static const uint8_t mac1[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t mac2[6] = { 0x06, 0xab, 0xcd, 0xef, 0x12, 0x34 };

	assert_int_equal(parse(OK_HEAD "vif = [ \"mac=02:00:00:00:00:01,bridge=lan0\",\n"
				       "        ' bridge = b-2.x_Y , mac = 06:AB:cd:EF:12:34 ' ]\n",
			       &c, err),
			 0);
	assert_string_equal(err, "");
	assert_int_equal(c.nvifs, 2);
	assert_true(c.vifs[0].mac_given);
	assert_memory_equal(c.vifs[0].mac, mac1, 6);
	assert_string_equal(c.vifs[0].bridge, "lan0");
	assert_true(c.vifs[1].mac_given);
	assert_memory_equal(c.vifs[1].mac, mac2, 6);
	assert_string_equal(c.vifs[1].bridge, "b-2.x_Y");

	/* "" (or blanks) and a missing bridge: the defaults. */
	assert_int_equal(parse(OK_HEAD "vif = [ ' ', 'mac=02:00:00:00:00:01' ]\n", &c, err), 0);
	assert_int_equal(c.nvifs, 2);
	assert_false(c.vifs[0].mac_given);
	assert_string_equal(c.vifs[0].bridge, CFG_BRIDGE_DEFAULT);
	assert_string_equal(c.vifs[1].bridge, "br0");
	assert_memory_equal(c.vifs[1].mac, mac1, 6);

	/* The longest bridge name that fits. */
	assert_int_equal(parse(OK_HEAD "vif = [ 'bridge=bridge-0123456' ]\n", &c, err), 0);
	assert_string_equal(c.vifs[0].bridge, "bridge-0123456");
	assert_int_equal(parse(OK_HEAD "vif = [ 'bridge=bridge-01234567' ]\n", &c, err), 0);
	assert_string_equal(c.vifs[0].bridge, "bridge-01234567");
}

static void test_autostart(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];

	assert_int_equal(parse(OK_HEAD, &c, err), 0);
	assert_true(c.autostart);
	assert_int_equal(parse(OK_HEAD "autostart = 0\n", &c, err), 0);
	assert_false(c.autostart);
	assert_int_equal(parse(OK_HEAD "autostart = 1\n", &c, err), 0);
	assert_true(c.autostart);
	assert_int_equal(parse(OK_HEAD "autostart = 2\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: autostart must be 0 or 1");
	assert_int_equal(parse(OK_HEAD "autostart = \"no\"\n", &c, err), -1);
}

static void test_nested(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];

	assert_int_equal(parse(OK_HEAD, &c, err), 0);
	assert_false(c.nested);
	assert_int_equal(c.nested_profile, NESTED_PROFILE_KVM);
	assert_int_equal(parse(OK_HEAD "nested = 1\nnested_profile = \"host\"\n", &c, err), 0);
	assert_true(c.nested);
	assert_int_equal(c.nested_profile, NESTED_PROFILE_HOST);
	assert_int_equal(parse(OK_HEAD "nested = 1\nnested_profile = \"kvm\"\n", &c, err), 0);
	assert_int_equal(c.nested_profile, NESTED_PROFILE_KVM);
	assert_int_equal(parse(OK_HEAD "nested = 2\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: nested must be 0 or 1");
	assert_int_equal(parse(OK_HEAD "nested_profile = \"xen\"\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: nested_profile must be \"kvm\" or \"host\"");
	assert_int_equal(parse(OK_HEAD "nested_profile = kvm\n", &c, err), -1);
	assert_int_equal(
		parse(OK_HEAD "nested = 1\ntimer_mode = \"delay_for_missed_ticks\"\n", &c, err),
		-1);
	assert_string_equal(err, PATH ": timer_mode \"delay_for_missed_ticks\" cannot be combined "
				      "with nested = 1 yet");
}

static void test_virtio_console(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];

	assert_int_equal(parse(OK_HEAD "virtio_console = 1\n", &c, err), 0);
	assert_string_equal(err, "");
	assert_true(c.virtio_console);
	assert_int_equal(parse(OK_HEAD "virtio_console = 0 # none\n", &c, err), 0);
	assert_false(c.virtio_console);
	assert_int_equal(parse(OK_HEAD "virtio_console=1; vcpus = 2\n", &c, err), 0);
	assert_true(c.virtio_console);
	assert_int_equal(c.vcpus, 2);

	assert_int_equal(parse(OK_HEAD "virtio_console = 2\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: virtio_console must be 0 or 1");
	assert_int_equal(parse(OK_HEAD "virtio_console = \"1\"\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: virtio_console must be 0 or 1");
	assert_int_equal(parse(OK_HEAD "virtio_console = yes\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: virtio_console must be 0 or 1");
	assert_int_equal(parse(OK_HEAD "virtio_console = 01x\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: virtio_console must be 0 or 1");
	assert_int_equal(parse(OK_HEAD "virtio_console =\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: missing value for 'virtio_console'");
	assert_int_equal(parse(OK_HEAD "virtio_console = 1\nvirtio_console = 0\n", &c, err), -1);
	assert_string_equal(err, PATH ":4: duplicate key 'virtio_console'");
}

static void test_on_unbacked(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];

	assert_int_equal(parse(OK_HEAD "on_unbacked = \"crash\"\n", &c, err), 0);
	assert_string_equal(err, "");
	assert_int_equal(c.on_unbacked, VM_UNBACKED_CRASH);
	assert_int_equal(parse(OK_HEAD "on_unbacked = 'ignore' # the default\n", &c, err), 0);
	assert_int_equal(c.on_unbacked, VM_UNBACKED_IGNORE);
	assert_string_equal(vm_unbacked_name(VM_UNBACKED_IGNORE), "ignore");
	assert_string_equal(vm_unbacked_name(VM_UNBACKED_CRASH), "crash");
	assert_string_equal(vm_unbacked_name((enum vm_unbacked)7), "?");

	assert_int_equal(parse(OK_HEAD "on_unbacked = \"destroy\"\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: on_unbacked must be \"ignore\" or \"crash\"");
	assert_int_equal(parse(OK_HEAD "on_unbacked = \"Crash\"\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: on_unbacked must be \"ignore\" or \"crash\"");
	assert_int_equal(parse(OK_HEAD "on_unbacked = crash\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: on_unbacked: expected a quoted string");
	assert_int_equal(
		parse(OK_HEAD "on_unbacked = \"crash\"\non_unbacked = \"crash\"\n", &c, err), -1);
	assert_string_equal(err, PATH ":4: duplicate key 'on_unbacked'");
}

static void test_timer_mode(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];

	assert_int_equal(parse(OK_HEAD, &c, err), 0);
	assert_int_equal(c.timer_mode, TIMER_MODE_NO_DELAY_FOR_MISSED_TICKS);
	assert_int_equal(parse(OK_HEAD "timer_mode = \"no_missed_ticks_pending\"\n", &c, err), 0);
	assert_int_equal(c.timer_mode, TIMER_MODE_NO_MISSED_TICKS_PENDING);
	assert_int_equal(parse(OK_HEAD "timer_mode = \"one_missed_tick_pending\"\n", &c, err), 0);
	assert_int_equal(c.timer_mode, TIMER_MODE_NO_MISSED_TICKS_PENDING);
	assert_int_equal(parse(OK_HEAD "timer_mode = \"no_delay_for_missed_ticks\"\n", &c, err), 0);
	assert_int_equal(c.timer_mode, TIMER_MODE_NO_DELAY_FOR_MISSED_TICKS);

	assert_int_equal(parse(OK_HEAD "timer_mode = \"delay_for_missed_ticks\"\n", &c, err), 0);
	assert_int_equal(c.timer_mode, TIMER_MODE_DELAY_FOR_MISSED_TICKS);
	assert_int_equal(parse(OK_HEAD "timer_mode = \"catch_up\"\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: timer_mode must be \"no_delay_for_missed_ticks\", "
				      "\"delay_for_missed_ticks\", \"no_missed_ticks_pending\" or "
				      "\"one_missed_tick_pending\"");
	assert_int_equal(parse(OK_HEAD "timer_mode = 1\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: timer_mode: expected a quoted string");
}

static bool mac_equal(const uint8_t a[6], const uint8_t b[6])
{
	return memcmp(a, b, 6) == 0;
}

/* A vif without mac= gets config_vif_mac's: FNV-1a of name and index. */
static void test_vif_generated_mac(void **state)
{
	(void)state;
	struct vm_config c, again, other;
	char err[256];
	uint8_t mac[6];
	/* Worked out by hand from the rule in config.h (Python's FNV-1a). */
	static const uint8_t demo0[6] = { 0x02, 0xe2, 0x87, 0xe9, 0xef, 0x75 };
	static const uint8_t demo1[6] = { 0x02, 0x95, 0x89, 0xe9, 0xef, 0x75 };
	static const uint8_t web0[6] = { 0x02, 0x83, 0x93, 0xea, 0x19, 0xf6 };

	config_vif_mac("demo", 0, mac);
	assert_memory_equal(mac, demo0, 6);
	config_vif_mac("demo", 1, mac);
	assert_memory_equal(mac, demo1, 6);
	config_vif_mac("web", 0, mac);
	assert_memory_equal(mac, web0, 6);

	/* name after vif: the MAC still comes from it. */
	assert_int_equal(
		parse("kernel = \"k\"\nvif = [ '', 'bridge=x' ]\nname = \"demo\"\n", &c, err), 0);
	assert_int_equal(c.nvifs, 2);
	assert_memory_equal(c.vifs[0].mac, demo0, 6);
	assert_memory_equal(c.vifs[1].mac, demo1, 6);
	assert_false(c.vifs[0].mac_given);
	assert_false(c.vifs[1].mac_given);
	/* Stable: the same file gives the same MACs. */
	assert_int_equal(
		parse("kernel = \"k\"\nvif = [ '', 'bridge=x' ]\nname = \"demo\"\n", &again, err),
		0);
	assert_memory_equal(again.vifs[0].mac, c.vifs[0].mac, 6);
	assert_memory_equal(again.vifs[1].mac, c.vifs[1].mac, 6);
	/* Another VM: other MACs. */
	assert_int_equal(
		parse("kernel = \"k\"\nvif = [ '', 'bridge=x' ]\nname = \"demo2\"\n", &other, err),
		0);
	assert_false(mac_equal(other.vifs[0].mac, c.vifs[0].mac));
	assert_false(mac_equal(other.vifs[1].mac, c.vifs[1].mac));
	/* A given MAC on vif 1 leaves vif 2's generated one as it was. */
	assert_int_equal(parse("kernel = \"k\"\nvif = [ 'mac=02:00:00:00:00:01', '' ]\n"
			       "name = \"demo\"\n",
			       &other, err),
			 0);
	assert_memory_equal(other.vifs[1].mac, demo1, 6);

	/* Over many names and both indexes: locally administered unicast,
	 * and no two alike. */
	enum { NAMES = 200 };
	static uint8_t seen[NAMES * VM_MAX_VIFS][6];
	for (unsigned n = 0; n < NAMES; n++) {
		char name[VM_NAME_MAX];
		snprintf(name, sizeof(name), "vm%u", n);
		for (unsigned i = 0; i < VM_MAX_VIFS; i++) {
			uint8_t *m = seen[n * VM_MAX_VIFS + i];
			config_vif_mac(name, i, m);
			assert_int_equal(m[0] & 0x03, 0x02);
			for (unsigned j = 0; j < n * VM_MAX_VIFS + i; j++)
				assert_false(mac_equal(seen[j], m));
		}
	}
}

struct bad_case {
	const char *text;
	const char *message;
};

#define L1 PATH ":1: "
#define L3 PATH ":3: "

static const struct bad_case bad_cases[] = {
	{ OK_HEAD "foo = 1\n", L3 "unknown key 'foo'" },
	{ OK_HEAD "Name = \"b\"\n", L3 "unknown key 'Name'" },
	{ OK_HEAD "memory = 0\n", L3 "memory must be an integer between 1 and 65536 (MiB)" },
	{ OK_HEAD "memory = 65537\n", L3 "memory must be an integer between 1 and 65536 (MiB)" },
	{ OK_HEAD "memory = 99999999999999999999999\n",
	  L3 "memory must be an integer between 1 and 65536 (MiB)" },
	{ OK_HEAD "memory = -1\n", L3 "memory must be an integer between 1 and 65536 (MiB)" },
	{ OK_HEAD "memory = 16M\n", L3 "memory must be an integer between 1 and 65536 (MiB)" },
	{ OK_HEAD "memory = 0x10\n", L3 "memory must be an integer between 1 and 65536 (MiB)" },
	{ OK_HEAD "memory = \"16\"\n", L3 "memory must be an integer between 1 and 65536 (MiB)" },
	{ OK_HEAD "memory = 1.5\n", L3 "memory must be an integer between 1 and 65536 (MiB)" },
	{ OK_HEAD "vcpus = 0\n", L3 "vcpus must be an integer between 1 and 8" },
	{ OK_HEAD "vcpus = 9\n", L3 "vcpus must be an integer between 1 and 8" },
	{ "name = hello\n", L1 "name: expected a quoted string" },
	{ "name = [\"a\"]\n", L1 "name: expected a quoted string" },
	{ "kernel = 5\n", L1 "kernel: expected a quoted string" },
	{ OK_HEAD "cmdline = console\n", L3 "cmdline: expected a quoted string" },
	{ OK_HEAD "on_poweroff = destroy\n", L3 "on_poweroff: expected a quoted string" },
	{ "name = \"abc\n", L1 "unterminated string" },
	{ "name = 'abc\"\n", L1 "unterminated string" },
	{ "name = \"abc\\\"\n", L1 "unterminated string" },
	{ "name = \"abc\\", L1 "unterminated string" },
	{ "name = \"a\\qb\"\n", L1 "unknown escape sequence: backslash before 'q'" },
	{ "name = \"a\"\nname = \"b\"\n", PATH ":2: duplicate key 'name'" },
	{ OK_HEAD "modules = [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]\n",
	  L3 "too many modules (max 8)" },
	{ OK_HEAD "modules = \"a\"\n",
	  L3 "modules: expected a list of quoted strings, like [ \"a\", \"b\" ]" },
	{ OK_HEAD "modules = [ \"a\" \"b\" ]\n", L3 "modules: expected ',' or ']', found '\"'" },
	{ OK_HEAD "modules = [ \"a\", 5 ]\n",
	  L3 "modules: expected a quoted string or ']', found '5'" },
	{ OK_HEAD "modules = [ , ]\n", L3 "modules: expected a quoted string or ']', found ','" },
	{ OK_HEAD "modules = [ \"a\",\n\n  \"b\"\n",
	  L3 "modules: unterminated list (missing ']')" },
	{ OK_HEAD "modules = [\n  \"a\",\n  x\n]\n",
	  PATH ":5: modules: expected a quoted string or ']', found 'x'" },
	{ OK_HEAD "modules = [ \"\" ]\n", L3 "modules: empty file name" },
	{ OK_HEAD "modules = [ \"a\" ] x\n", L3 "unexpected 'x' after the value of 'modules'" },
	{ "name = \"a b\"\n", L1 "name may contain only letters, digits, '_', '.' and '-'" },
	{ "name = \"a/b\"\n", L1 "name may contain only letters, digits, '_', '.' and '-'" },
	{ "name = \"\"\n", L1 "name must not be empty" },
	{ "name = \"0123456789012345678901234567890123\"\n",
	  L1 "value too long for 'name' (max 31)" },
	{ "name = \"a\"\nkernel = \"\"\n", PATH ":2: kernel: empty file name" },
	{ OK_HEAD "on_crash = \"coredump-destroy\"\n",
	  L3 "on_crash must be \"destroy\", \"restart\" or \"preserve\"" },
	{ OK_HEAD "on_poweroff = \"Destroy\"\n",
	  L3 "on_poweroff must be \"destroy\", \"restart\" or \"preserve\"" },
	{ "name = \"a\"\n", PATH ": missing required key 'kernel'" },
	{ "kernel = \"k\"\n", PATH ": missing required key 'name'" },
	{ "", PATH ": missing required key 'name'" },
	{ "# nothing\n\n", PATH ": missing required key 'name'" },
	{ "name \"a\"\n", L1 "expected '=' after 'name', found '\"'" },
	{ "name\n", L1 "expected '=' after 'name', found end of line" },
	{ "name =\n", L1 "missing value for 'name'" },
	{ "name = # comment\n", L1 "missing value for 'name'" },
	{ "name =", L1 "missing value for 'name'" },
	{ "name = \"a\" x\n", L1 "unexpected 'x' after the value of 'name'" },
	{ "name = \"a\" \"b\"\n", L1 "unexpected '\"' after the value of 'name'" },
	{ "name = \"a\" ; ;\n", L1 "expected a key name, found ';'" },
	{ "name = \"a\"; x = 1\n", L1 "unknown key 'x'" },
	{ "name = \"a\" kernel = \"k\"\n", L1 "unexpected 'k' after the value of 'name'" },
	{ "= 5\n", L1 "expected a key name, found '='" },
	{ "1name = 5\n", L1 "expected a key name, found '1'" },
	{ "\xff\xfe", L1 "expected a key name, found byte 0xff" },
	{ "name = \"a\"\n\x01\x02\x03", PATH ":2: control character 0x01 (is this a text file?)" },
	{ OK_HEAD "# \x7f\n", L3 "control character 0x7f (is this a text file?)" },
	/* disk */
	{ OK_HEAD "disk = \"a,raw,vda\"\n",
	  L3 "disk: expected a list of quoted strings, like [ \"root.img,raw,vda,rw\" ]" },
	{ OK_HEAD "disk = [ \"\" ]\n",
	  L3 "disk 1: empty (expected \"target,format,vdev[,access]\")" },
	{ OK_HEAD "disk = [ \"a\" ]\n",
	  L3 "disk 1: expected \"target,format,vdev[,access]\", found 1 field" },
	{ OK_HEAD "disk = [ \"a,raw\" ]\n",
	  L3 "disk 1: expected \"target,format,vdev[,access]\", found 2 fields" },
	{ OK_HEAD "disk = [ \"a,raw,vda,rw,x\" ]\n",
	  L3 "disk 1: expected \"target,format,vdev[,access]\", found 5 fields" },
	{ OK_HEAD "disk = [ \",raw,vda\" ]\n", L3 "disk 1: empty target" },
	{ OK_HEAD "disk = [ \"a,,vda\" ]\n", L3 "disk 1: empty format" },
	{ OK_HEAD "disk = [ \"a,raw, \" ]\n", L3 "disk 1: empty vdev" },
	{ OK_HEAD "disk = [ \"a,raw,vda,\" ]\n", L3 "disk 1: empty access" },
	{ OK_HEAD "disk = [ \"a,qcow2,vda\" ]\n",
	  L3 "disk 1: format 'qcow2' is not supported (raw only)" },
	{ OK_HEAD "disk = [ \"a,RAW,vda\" ]\n",
	  L3 "disk 1: format 'RAW' is not supported (raw only)" },
	{ OK_HEAD "disk = [ \"a,format=raw,vda\" ]\n",
	  L3 "disk 1: format 'format=raw' is not supported (raw only)" },
	{ OK_HEAD "disk = [ \"a,0123456789012345678901234567890123456789,vda\" ]\n",
	  L3 "disk 1: format '01234567890123456789012345678901...' is not supported (raw only)" },
	{ OK_HEAD "disk = [ \"a,raw,xvda\" ]\n", L3 "disk 1: vdev 'xvda' must be vda to vdz" },
	{ OK_HEAD "disk = [ \"part:,raw,vda\" ]\n",
	  L3 "disk 1: partition name '' must be 1 to 36 characters" },
	{ OK_HEAD "disk = [ \"part:0123456789012345678901234567890123456,raw,vda\" ]\n",
	  L3 "disk 1: partition name '01234567890123456789012345678901...' must be 1 to 36 "
	     "characters" },
	{ OK_HEAD "disk = [ \"a,raw,sda\" ]\n", L3 "disk 1: vdev 'sda' must be vda to vdz" },
	{ OK_HEAD "disk = [ \"a,raw,vdA\" ]\n", L3 "disk 1: vdev 'vdA' must be vda to vdz" },
	{ OK_HEAD "disk = [ \"a,raw,vd\" ]\n", L3 "disk 1: vdev 'vd' must be vda to vdz" },
	{ OK_HEAD "disk = [ \"a,raw,vdaa\" ]\n", L3 "disk 1: vdev 'vdaa' must be vda to vdz" },
	{ OK_HEAD "disk = [ \"a,raw,vda\", \"b,raw,vda\" ]\n",
	  L3 "disk 2: vdev 'vda' is already used by disk 1" },
	{ OK_HEAD "disk = [ \"a,raw,vda,rx\" ]\n",
	  L3 "disk 1: access 'rx' must be rw, w, ro or r" },
	{ OK_HEAD "disk = [ \"a,raw,vda,RW\" ]\n",
	  L3 "disk 1: access 'RW' must be rw, w, ro or r" },
	{ OK_HEAD "disk = [ \"a,raw,vda\", \"b,raw,vdb\", \"c,raw,vdc\", \"d,raw,vdd\",\n"
		  "         \"e,raw,vde\" ]\n",
	  PATH ":4: too many disks (max 4)" },
	{ OK_HEAD "disk = [\n  \"a,raw,vda\",\n  \"b,raw,vdb,xx\"\n]\n",
	  PATH ":5: disk 2: access 'xx' must be rw, w, ro or r" },
	{ OK_HEAD "disk = [ \"a,raw,vda\" \"b,raw,vdb\" ]\n",
	  L3 "disk: expected ',' or ']', found '\"'" },
	{ OK_HEAD "disk = [ \"a,raw,vda\"\n", L3 "disk: unterminated list (missing ']')" },
	{ OK_HEAD "disk = [ \"a,raw,vda\" ]\ndisk = [ ]\n", PATH ":4: duplicate key 'disk'" },
	/* vif */
	{ OK_HEAD "vif = \"bridge=br0\"\n", L3 "vif: expected a list of quoted strings, like [ "
					       "\"mac=02:00:00:00:00:01,bridge=br0\" ]" },
	{ OK_HEAD "vif = [ \"model=e1000\" ]\n", L3 "vif 1: unknown key 'model'" },
	{ OK_HEAD "vif = [ \"\", \"bridge=x, type=ioemu\" ]\n", L3 "vif 2: unknown key 'type'" },
	{ OK_HEAD "vif = [ \"MAC=02:00:00:00:00:01\" ]\n", L3 "vif 1: unknown key 'MAC'" },
	{ OK_HEAD "vif = [ \"a0123456789012345678901234567890123456789=1\" ]\n",
	  L3 "vif 1: unknown key 'a0123456789012345678901234567890...'" },
	{ OK_HEAD "vif = [ \"mac\" ]\n", L3 "vif 1: expected key=value, found 'mac'" },
	{ OK_HEAD "vif = [ \" =br0\" ]\n", L3 "vif 1: expected key=value, found '=br0'" },
	{ OK_HEAD "vif = [ \"bridge=a,,mac=02:00:00:00:00:01\" ]\n", L3 "vif 1: empty setting" },
	{ OK_HEAD "vif = [ \"bridge=a,\" ]\n", L3 "vif 1: empty setting" },
	{ OK_HEAD "vif = [ \"mac=\" ]\n", L3 "vif 1: empty value for 'mac'" },
	{ OK_HEAD "vif = [ \"bridge = \" ]\n", L3 "vif 1: empty value for 'bridge'" },
	{ OK_HEAD "vif = [ \"bridge=a,bridge=b\" ]\n", L3 "vif 1: duplicate key 'bridge'" },
	{ OK_HEAD "vif = [ \"mac=02:00:00:00:00:01,mac=02:00:00:00:00:02\" ]\n",
	  L3 "vif 1: duplicate key 'mac'" },
	{ OK_HEAD "vif = [ \"mac=02:00:00:00:00\" ]\n",
	  L3 "vif 1: mac '02:00:00:00:00' must be six two-digit hex numbers separated by ':'" },
	{ OK_HEAD "vif = [ \"mac=02:00:00:00:00:01:02\" ]\n",
	  L3 "vif 1: mac '02:00:00:00:00:01:02' must be six two-digit hex numbers separated by "
	     "':'" },
	{ OK_HEAD "vif = [ \"mac=02-00-00-00-00-01\" ]\n",
	  L3 "vif 1: mac '02-00-00-00-00-01' must be six two-digit hex numbers separated by ':'" },
	{ OK_HEAD "vif = [ \"mac=2:0:0:0:0:1\" ]\n",
	  L3 "vif 1: mac '2:0:0:0:0:1' must be six two-digit hex numbers separated by ':'" },
	{ OK_HEAD "vif = [ \"mac=02:00:00:00:00:0g\" ]\n",
	  L3 "vif 1: mac '02:00:00:00:00:0g' must be six two-digit hex numbers separated by ':'" },
	{ OK_HEAD "vif = [ \"mac=02:00:00:00:00:011\" ]\n",
	  L3 "vif 1: mac '02:00:00:00:00:011' must be six two-digit hex numbers separated by ':'" },
	{ OK_HEAD "vif = [ \"mac=02:00:00:00:00:01:02:03:04:05:06:07:08:09\" ]\n",
	  L3 "vif 1: mac '02:00:00:00:00:01:02:03:04:05:06...' must be six two-digit hex numbers "
	     "separated by ':'" },
	{ OK_HEAD "vif = [ \"mac=01:00:5e:00:00:01\" ]\n",
	  L3 "vif 1: mac '01:00:5e:00:00:01' is a multicast address" },
	{ OK_HEAD "vif = [ \"mac=ff:ff:ff:ff:ff:ff\" ]\n",
	  L3 "vif 1: mac 'ff:ff:ff:ff:ff:ff' is a multicast address" },
	{ OK_HEAD "vif = [ \"mac=00:00:00:00:00:00\" ]\n",
	  L3 "vif 1: mac '00:00:00:00:00:00' is all zero" },
	{ OK_HEAD "vif = [ \"mac=02:aa:00:00:00:01\", \"mac=02:AA:00:00:00:01\" ]\n",
	  L3 "vif 2: mac '02:AA:00:00:00:01' is already used by vif 1" },
	{ OK_HEAD "vif = [ \"bridge=bridge-012345678\" ]\n",
	  L3 "vif 1: bridge name too long (max 15)" },
	{ OK_HEAD "vif = [ \"bridge=br/0\" ]\n",
	  L3 "vif 1: bridge name may contain only letters, digits, '_', '.' and '-'" },
	{ OK_HEAD "vif = [ \"bridge=br 0\" ]\n",
	  L3 "vif 1: bridge name may contain only letters, digits, '_', '.' and '-'" },
	{ OK_HEAD "vif = [ \"\", \"\", \"\" ]\n", L3 "too many vifs (max 2)" },
	{ OK_HEAD "vif = [ \"a=1,a=1,a=1,a=1,a=1,a=1,a=1,a=1,a=1\" ]\n",
	  L3 "vif 1: too many settings (max 8)" },
	{ OK_HEAD "vif = [\n  \"\",\n  \"model=e1000\"\n]\n",
	  PATH ":5: vif 2: unknown key 'model'" },
	{ OK_HEAD "vif = [ ]\nvif = [ ]\n", PATH ":4: duplicate key 'vif'" },
};

static void test_bad_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct vm_config c;
		char err[256];
		int rc = parse(bad_cases[i].text, &c, err);
		if (rc != -1 || strcmp(err, bad_cases[i].message) != 0)
			print_error("case %zu: %s\n  got rc %d: %s\n", i, bad_cases[i].text, rc,
				    err);
		assert_int_equal(rc, -1);
		assert_string_equal(err, bad_cases[i].message);
	}
}

static void test_long_values(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256], text[4096], val[3000];

	memset(val, 'x', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';

	/* 2,048 characters, Linux's limit, with an escaped quote at the end. */
	val[CFG_CMDLINE_MAX - 2] = '\\';
	val[CFG_CMDLINE_MAX - 1] = '"';
	val[CFG_CMDLINE_MAX] = '\0';
	snprintf(text, sizeof(text), OK_HEAD "cmdline = \"%s\"\n", val);
	assert_int_equal(parse(text, &c, err), 0);
	assert_int_equal(strlen(c.cmdline), 2048);
	assert_int_equal(c.cmdline[0], 'x');
	assert_string_equal(c.cmdline + 2046, "x\"");

	val[CFG_CMDLINE_MAX - 2] = 'x';
	val[CFG_CMDLINE_MAX - 1] = 'x'; /* 2,049 characters */
	snprintf(text, sizeof(text), OK_HEAD "cmdline = \"%s\"\n", val);
	assert_int_equal(parse(text, &c, err), -1);
	assert_string_equal(err, L3 "value too long for 'cmdline' (max 2048)");

	val[CFG_CMDLINE_MAX] = 'x'; /* 2,999 characters */
	snprintf(text, sizeof(text), OK_HEAD "cmdline = \"%s\"\n", val);
	assert_int_equal(parse(text, &c, err), -1);
	assert_string_equal(err, L3 "value too long for 'cmdline' (max 2048)");

	val[CFG_PATH_MAX] = '\0'; /* 128 characters */
	snprintf(text, sizeof(text), "name = \"a\"\nkernel = \"%s\"\n", val);
	assert_int_equal(parse(text, &c, err), -1);
	assert_string_equal(err, PATH ":2: value too long for 'kernel' (max 127)");

	val[120] = '\0'; /* fits, but not once "configs/" is prepended */
	snprintf(text, sizeof(text), "name = \"a\"\nkernel = \"k\"\nramdisk = \"%s\"\n", val);
	assert_int_equal(parse(text, &c, err), -1);
	assert_string_equal(err, L3 "value too long for 'ramdisk' once resolved relative to the "
				    "config file (max 127)");

	val[120] = 'x';
	val[CFG_PATH_MAX] = '\0'; /* a 128-character disk target */
	snprintf(text, sizeof(text), OK_HEAD "disk = [ \"%s,raw,vda\" ]\n", val);
	assert_int_equal(parse(text, &c, err), -1);
	assert_string_equal(err, L3 "disk 1: target too long (max 127)");

	val[120] = '\0'; /* fits, but not once "configs/" is prepended */
	snprintf(text, sizeof(text), OK_HEAD "disk = [ \"%s,raw,vda\" ]\n", val);
	assert_int_equal(parse(text, &c, err), -1);
	assert_string_equal(err, L3 "disk 1: target too long once resolved relative to the config "
				    "file (max 127)");

	val[119] = '\0'; /* exactly fits once resolved */
	snprintf(text, sizeof(text), OK_HEAD "disk = [ \"%s,raw,vda\" ]\n", val);
	assert_int_equal(parse(text, &c, err), 0);
	assert_int_equal(strlen(c.disks[0].target), CFG_PATH_MAX - 1);

	memset(val, ' ', 300); /* blanks would trim away, but the string is over the limit */
	memcpy(val, "d,raw,vda", 9);
	val[256] = '\0';
	snprintf(text, sizeof(text), OK_HEAD "disk = [ \"%s\" ]\n", val);
	assert_int_equal(parse(text, &c, err), -1);
	assert_string_equal(err, L3 "disk 1: too long (max 255 characters)");
	val[255] = '\0';
	snprintf(text, sizeof(text), OK_HEAD "disk = [ \"%s\" ]\n", val);
	assert_int_equal(parse(text, &c, err), 0);
	assert_string_equal(c.disks[0].target, "configs/d");
	memcpy(val, "bridge=x ", 9);
	val[255] = ' ';
	val[256] = '\0';
	snprintf(text, sizeof(text), OK_HEAD "vif = [ \"%s\" ]\n", val);
	assert_int_equal(parse(text, &c, err), -1);
	assert_string_equal(err, L3 "vif 1: too long (max 255 characters)");
	val[255] = '\0';
	snprintf(text, sizeof(text), OK_HEAD "vif = [ \"%s\" ]\n", val);
	assert_int_equal(parse(text, &c, err), 0);
	assert_string_equal(c.vifs[0].bridge, "x");

	memset(val, 'k', 100);
	val[100] = '\0';
	snprintf(text, sizeof(text), "%s = 1\n", val);
	assert_int_equal(parse(text, &c, err), -1);
	assert_string_equal(err,
			    L1 "unknown key '"
			       "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
			       "...'");
}

static void test_nul_byte(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];
	static const char text[] = "name = \"a\"\nkernel = \"k\0\"\n";

	assert_int_equal(parse_len(text, sizeof(text) - 1, &c, err, sizeof(err)), -1);
	assert_string_equal(err, PATH ":2: NUL byte (is this a text file?)");
}

static void test_small_error_buffer(void **state)
{
	(void)state;
	struct vm_config c;
	char err[8];

	memset(err, 'z', sizeof(err));
	assert_int_equal(parse_len("foo = 1", 7, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "configs");
	assert_int_equal(parse_len("foo = 1", 7, &c, NULL, 0), -1);
	memset(err, 'z', sizeof(err));
	assert_int_equal(parse_len("foo = 1", 7, &c, err, 1), -1);
	assert_int_equal(err[0], '\0');
	assert_int_equal(err[1], 'z');
}

/* Every prefix of a valid file parses or fails cleanly. */
static void test_every_truncation(void **state)
{
	(void)state;
	const char *text = "name = \"demo\" # c\nkernel = '../k'\nmemory = 32\n"
			   "modules = [\n \"a\", # x\n 'b'\n]\ncmdline = \"a \\\" b\"\n"
			   "disk = [ 'r.img,raw,vda,rw', # root\n \"t.img , raw, vdb\" ]\n"
			   "vif = [ 'mac=02:00:00:00:00:01,bridge=lan0', '' ]\n";
	size_t len = strlen(text);

	for (size_t n = 0; n <= len; n++) {
		struct vm_config c;
		char err[256];
		int rc = parse_len(text, n, &c, err, sizeof(err));
		if (rc < 0)
			assert_true(strncmp(err, PATH ":", strlen(PATH ":")) == 0);
		else
			assert_string_equal(err, "");
	}
}

/* cpus = "..." as xl reads it: CPU numbers, ranges, "all". */
static void test_cpus(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];
	static const struct {
		const char *value;
		uint32_t mask; /* 0: refused */
	} cases[] = {
		{ "1", 0x2 },
		{ "0-1", 0x3 },
		{ "0,2-3", 0xd },
		{ "31", 1u << 31 },
		{ "all", 0xffffffffu },
		{ "", 0 },
		{ "32", 0 },
		{ "1-0", 0 },
		{ "1,", 0 },
		{ "-1", 0 },
		{ "1-", 0 },
		{ "a", 0 },
		{ "0 - 1", 0 },
		{ "99999999999", 0 },
	};

	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"", &c, err), 0);
	assert_int_equal(c.cpus, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "name = \"a\"\nkernel = \"k\"\ncpus = \"%s\"\n",
			 cases[i].value);
		int rc = parse(text, &c, err);
		if (!cases[i].mask) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err, "cpus must be"));
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(c.cpus, cases[i].mask);
		}
	}
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\ncpus = 1\n", &c, err), -1);
}

struct path_case {
	const char *base;
	const char *rel;
	const char *expect; /* os.path.normpath(os.path.join(os.path.dirname(base), rel)) */
};

/* Expected values computed with Python 3's os.path on Linux. */
static const struct path_case path_cases[] = {
	{ "configs/x.cfg", "../build/guests/hello.elf", "build/guests/hello.elf" },
	{ "x.cfg", "a.bin", "a.bin" },
	{ "x.cfg", "../a", "../a" },
	{ "configs/x.cfg", "../../a", "../a" },
	{ "/etc/x.cfg", "../../../a", "/a" },
	{ "/x.cfg", "..", "/" },
	{ "configs/x.cfg", "/abs//p/./q/../r", "/abs/p/r" },
	{ "configs/x.cfg", ".", "configs" },
	{ "configs/x.cfg", "..", "." },
	{ "x.cfg", ".", "." },
	{ "a//b//x.cfg", "c", "a/b/c" },
	{ "//x.cfg", "a", "//a" },
	{ "///x.cfg", "a", "/a" },
	{ "//a/x.cfg", "../../b", "//b" },
	{ "configs/x.cfg", "a/", "configs/a" },
	{ "configs/x.cfg", "", "configs" },
	{ "", "a", "a" },
	{ "", "", "." },
	{ "configs/", "a", "configs/a" },
	{ "../../x.cfg", "../a", "../../../a" },
	{ "../x.cfg", "b/../../c", "../../c" },
	{ "a/b/c/x.cfg", "../../../..", ".." },
	{ "/", "a", "/a" },
	{ "configs/x.cfg", "a/../../..", ".." },
	{ "configs/x.cfg", "//abs", "//abs" },
	{ "configs/x.cfg", "///abs", "/abs" },
	{ "./configs/./x.cfg", "./a/./b", "configs/a/b" },
	{ "/a/b/x.cfg", "../../../../..", "/" },
	{ "..", "a", "a" },
	{ "a/..", "b", "a/b" },
	{ "configs/x.cfg", "a//b///c/", "configs/a/b/c" },
	{ "//", "..", "//" },
};

static void test_resolve_path(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *pc = &path_cases[i];
		char out[CFG_PATH_MAX];
		size_t need = strlen(pc->expect) + 1;

		memset(out, 'z', sizeof(out));
		if (config_resolve_path(pc->base, pc->rel, out, sizeof(out)) != 0 ||
		    strcmp(out, pc->expect) != 0)
			print_error("case %zu: '%s' + '%s'\n", i, pc->base, pc->rel);
		assert_int_equal(config_resolve_path(pc->base, pc->rel, out, sizeof(out)), 0);
		assert_string_equal(out, pc->expect);

		/* Exactly enough room works; one byte less fails, in a heap
		 * buffer of that size so ASan catches any overrun. */
		char *tight = malloc(need);
		assert_non_null(tight);
		assert_int_equal(config_resolve_path(pc->base, pc->rel, tight, need), 0);
		assert_string_equal(tight, pc->expect);
		free(tight);
		tight = malloc(need - 1 ? need - 1 : 1);
		assert_non_null(tight);
		assert_int_equal(config_resolve_path(pc->base, pc->rel, tight, need - 1), -1);
		free(tight);
	}
}

/* A result may fit even when the path on the way there would not. */
static void test_resolve_path_intermediate(void **state)
{
	(void)state;
	char out[4];

	assert_int_equal(config_resolve_path("x.cfg", "aaaaaaaaaa/../b", out, 2), 0);
	assert_string_equal(out, "b");
	assert_int_equal(config_resolve_path("verylongdirectory/x.cfg",
					     "aaaaaaa/bbbbbbb/../../../c", out, 2),
			 0);
	assert_string_equal(out, "c");
	assert_int_equal(config_resolve_path("x.cfg", "ab/cdefghij/..", out, 3), 0);
	assert_string_equal(out, "ab");
	assert_int_equal(config_resolve_path("x.cfg", "ab/cdefghij/../..", out, 2), 0);
	assert_string_equal(out, ".");
	assert_int_equal(config_resolve_path("x.cfg", "ab/cdefghij/kl/..", out, 4), -1);
	assert_int_equal(config_resolve_path("x.cfg", "a", out, 0), -1);
}

static void test_traps(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];

	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\n", &c, err), 0);
	assert_int_equal(c.traps, TRAP_PRESET_DEFAULT);
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\ntrap = \"minimal\"\n", &c, err), 0);
	assert_int_equal(c.traps, TRAP_PRESET_MINIMAL);
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\ntrap = \"all\"\n", &c, err), 0);
	assert_int_equal(c.traps, TRAP_ALL);
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\n"
			       "trap = [ \"minimal\", 'rdtsc',\n \"cr3\", ]\n",
			       &c, err),
			 0);
	assert_int_equal(c.traps, TRAP_BIT(TRAP_RDTSC) | TRAP_BIT(TRAP_CR3));
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\ntrap = [ ]\n", &c, err), 0);
	assert_int_equal(c.traps, 0);
	assert_int_equal(
		parse("name = \"a\"\nkernel = \"k\"\ntrap = [ \"rdtsc\", \"bogus\" ]\n", &c, err),
		-1);
	assert_string_equal(err, PATH ":3: trap: unknown trap or preset \"bogus\"");
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\ntrap = 3\n", &c, err), -1);
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\ntrap = [ \"rdtsc\"\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: trap: unterminated list (missing ']')");
}

static void test_pv(void **state)
{
	(void)state;
	struct vm_config c;
	char err[256];

	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\n", &c, err), 0);
	assert_int_equal(c.pv, PV_ALL);
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\npv = \"none\"\n", &c, err), 0);
	assert_int_equal(c.pv, 0);
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\npv = [ ]\n", &c, err), 0);
	assert_int_equal(c.pv, 0);
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\npv = [ \"kvm-clock\" ]\n", &c, err),
			 0);
	assert_int_equal(c.pv, PV_KVM_CLOCK);
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\npv = \"kvm-clock\"\n", &c, err), 0);
	assert_int_equal(c.pv, PV_KVM_CLOCK);
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\npv = [ \"kvm-clock\", \"tardis\" ]\n",
			       &c, err),
			 -1);
	assert_string_equal(
		err, PATH
		":3: pv: unknown paravirtual feature \"tardis\" (known: none, "
		"kvm-clock, steal-time, pv-tlb-flush, pv-ipi, pv-sched-yield, pv-eoi, pv-unhalt)");
	assert_int_equal(
		parse("name = \"a\"\nkernel = \"k\"\npv = [ \"steal-time\", \"pv-tlb-flush\" ]\n",
		      &c, err),
		0);
	assert_int_equal(c.pv, PV_STEAL_TIME | PV_TLB_FLUSH);
	assert_int_equal(
		parse("name = \"a\"\nkernel = \"k\"\npv = [ \"pv-ipi\", \"pv-sched-yield\" ]\n", &c,
		      err),
		0);
	assert_int_equal(c.pv, PV_SEND_IPI | PV_SCHED_YIELD);
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\npv = \"pv-eoi\"\n", &c, err), 0);
	assert_int_equal(c.pv, PV_EOI);
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\npv = \"pv-unhalt\"\n", &c, err), 0);
	assert_int_equal(c.pv, PV_UNHALT);
	assert_int_equal(parse("name = \"a\"\nkernel = \"k\"\npv = 1\n", &c, err), -1);
	assert_string_equal(err, PATH ":3: pv: expected \"none\" or a list of features, like [ "
				      "\"kvm-clock\" ]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_whitespace_and_comments),
		cmocka_unit_test(test_semicolons),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_small_error_buffer),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_traps),
		cmocka_unit_test(test_pv),
		cmocka_unit_test(test_disks),
		cmocka_unit_test(test_vifs),
		cmocka_unit_test(test_vif_generated_mac),
		cmocka_unit_test(test_autostart),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_virtio_console),
		cmocka_unit_test(test_on_unbacked),
		cmocka_unit_test(test_timer_mode),
		cmocka_unit_test(test_resolve_path),
		cmocka_unit_test(test_resolve_path_intermediate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
