/* The disk and vif strings of a VM config (see config.h): xl's positional
 * disk syntax "target,format,vdev[,access]" and its "key=value,..." vif
 * syntax, each checked field by field with one message naming the list
 * item and the field. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/lib/fnv1a.h"
#include "arch/x86/lib/hex.h"
#include "vmm/load/config.h"
#include "vmm/load/config_parser.h"

#define DISK_FIELDS_MIN 3 /* target,format,vdev */
#define DISK_FIELDS_MAX 4 /* ...,access */
#define VIF_FIELDS_MAX 8  /* more than the keys there are, to name the extra */
#define MAC_LEN 6
#define MAC_TEXT_LEN 17 /* "xx:xx:xx:xx:xx:xx" */
#define MAC_MULTICAST 0x01
#define MAC_LOCAL 0x02

_Static_assert(VM_MAX_VIFS < 256, "config_vif_mac hashes the index as one byte");

/* Blanks around a field are not part of it. */
static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Cuts s at every ',' into trimmed fields (at most max kept); returns how
 * many fields there are in all. */
static unsigned split_fields(char *s, char **fields, unsigned max)
{
	unsigned n = 0;

	for (;;) {
		char *comma = strchr(s, ',');
		if (comma)
			*comma = '\0';
		if (n < max)
			fields[n] = trim(s);
		n++;
		if (!comma)
			return n;
		s = comma + 1;
	}
}

static int set_access(const char *s, bool *writable)
{
	if (!strcmp(s, "rw") || !strcmp(s, "w"))
		*writable = true;
	else if (!strcmp(s, "ro") || !strcmp(s, "r"))
		*writable = false;
	else
		return -1;
	return 0;
}

/* "target,format,vdev[,access]" as xl's positional disk syntax. */
int config_add_disk(struct parser *ps, const char *spec, size_t len)
{
	static const char *const field_names[DISK_FIELDS_MAX] = { "target", "format", "vdev",
								  "access" };
	struct vm_config *out = ps->out;
	unsigned idx = ps->nitems; /* 1-based, as in messages */
	char copy[SPEC_MAX + 1], *f[DISK_FIELDS_MAX];
	struct vm_disk_config *d;
	unsigned n;

	if (out->ndisks == VM_MAX_DISKS)
		return fail(ps, "too many disks (max %u)", VM_MAX_DISKS);
	if (len > SPEC_MAX)
		return fail(ps, "disk %u: too long (max %u characters)", idx, SPEC_MAX);
	if (!len)
		return fail(ps, "disk %u: empty (expected \"target,format,vdev[,access]\")", idx);
	memcpy(copy, spec, len + 1);
	n = split_fields(copy, f, DISK_FIELDS_MAX);
	if (n < DISK_FIELDS_MIN || n > DISK_FIELDS_MAX)
		return fail(ps,
			    "disk %u: expected \"target,format,vdev[,access]\", found %u field%s",
			    idx, n, n == 1 ? "" : "s");
	for (unsigned i = 0; i < n; i++)
		if (!f[i][0])
			return fail(ps, "disk %u: empty %s", idx, field_names[i]);

	d = &out->disks[out->ndisks];
	d->partition = !strncmp(f[0], CFG_PART_PREFIX, strlen(CFG_PART_PREFIX));
	if (d->partition) {
		const char *name = f[0] + strlen(CFG_PART_PREFIX);
		if (!name[0] || strlen(name) > CFG_PART_NAME_MAX)
			return fail(ps,
				    "disk %u: partition name '%.*s%s' must be 1 to %u characters",
				    idx, ECHO(name), CFG_PART_NAME_MAX);
		memcpy(d->target, name, strlen(name) + 1);
	} else if (strlen(f[0]) >= CFG_PATH_MAX)
		return fail(ps, "disk %u: target too long (max %u)", idx, CFG_PATH_MAX - 1);
	else if (config_resolve_path(ps->path, f[0], d->target, CFG_PATH_MAX) < 0)
		return fail(ps,
			    "disk %u: target too long once resolved relative to the config file "
			    "(max %u)",
			    idx, CFG_PATH_MAX - 1);
	if (strcmp(f[1], "raw"))
		return fail(ps, "disk %u: format '%.*s%s' is not supported (raw only)", idx,
			    ECHO(f[1]));
	/* virtio-blk names: one letter, so at most 26 per VM. */
	if (strlen(f[2]) != 3 || f[2][0] != 'v' || f[2][1] != 'd' || f[2][2] < 'a' || f[2][2] > 'z')
		return fail(ps, "disk %u: vdev '%.*s%s' must be vda to vdz", idx, ECHO(f[2]));
	for (unsigned i = 0; i < out->ndisks; i++)
		if (!strcmp(out->disks[i].vdev, f[2]))
			return fail(ps, "disk %u: vdev '%s' is already used by disk %u", idx, f[2],
				    i + 1);
	memcpy(d->vdev, f[2], strlen(f[2]) + 1);
	d->writable = true; /* xl's default access */
	if (n == DISK_FIELDS_MAX && set_access(f[3], &d->writable) < 0)
		return fail(ps, "disk %u: access '%.*s%s' must be rw, w, ro or r", idx, ECHO(f[3]));
	out->ndisks++;
	return 0;
}

/* "xx:xx:xx:xx:xx:xx", two hex digits per octet as libxl reads it. */
static int parse_mac(const char *s, uint8_t mac[MAC_LEN])
{
	if (strlen(s) != MAC_TEXT_LEN)
		return -1;
	for (unsigned i = 0; i < MAC_LEN; i++, s += 3) {
		int hi = hex_value(s[0]), lo = hex_value(s[1]);
		if (hi < 0 || lo < 0 || (i + 1 < MAC_LEN && s[2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static bool mac_is_zero(const uint8_t mac[MAC_LEN])
{
	for (unsigned i = 0; i < MAC_LEN; i++)
		if (mac[i])
			return false;
	return true;
}

static int set_vif_mac(struct parser *ps, unsigned idx, const char *val, struct vm_vif_config *v)
{
	const struct vm_config *out = ps->out;

	if (parse_mac(val, v->mac) < 0)
		return fail(ps,
			    "vif %u: mac '%.*s%s' must be six two-digit hex numbers separated by "
			    "':'",
			    idx, ECHO(val));
	/* A guest sending from a group address would have its frames
	 * flooded and never be learned by the switch. */
	if (v->mac[0] & MAC_MULTICAST)
		return fail(ps, "vif %u: mac '%s' is a multicast address", idx, val);
	if (mac_is_zero(v->mac))
		return fail(ps, "vif %u: mac '%s' is all zero", idx, val);
	for (unsigned i = 0; i < out->nvifs; i++)
		if (out->vifs[i].mac_given && !memcmp(out->vifs[i].mac, v->mac, MAC_LEN))
			return fail(ps, "vif %u: mac '%s' is already used by vif %u", idx, val,
				    i + 1);
	v->mac_given = true;
	return 0;
}

static int set_vif_bridge(struct parser *ps, unsigned idx, const char *val, struct vm_vif_config *v)
{
	size_t len = strlen(val);

	if (len >= CFG_BRIDGE_MAX)
		return fail(ps, "vif %u: bridge name too long (max %u)", idx, CFG_BRIDGE_MAX - 1);
	for (size_t i = 0; i < len; i++)
		if (!config_name_char(val[i]))
			return fail(ps,
				    "vif %u: bridge name may contain only letters, digits, '_', "
				    "'.' and '-'",
				    idx);
	memcpy(v->bridge, val, len + 1);
	return 0;
}

/* xl's "key=value,key=value"; "" is a vif with every default. */
int config_add_vif(struct parser *ps, const char *spec, size_t len)
{
	struct vm_config *out = ps->out;
	unsigned idx = ps->nitems, n;
	char copy[SPEC_MAX + 1], *f[VIF_FIELDS_MAX];
	bool seen_mac = false, seen_bridge = false;
	struct vm_vif_config *v;

	if (out->nvifs == VM_MAX_VIFS)
		return fail(ps, "too many vifs (max %u)", VM_MAX_VIFS);
	if (len > SPEC_MAX)
		return fail(ps, "vif %u: too long (max %u characters)", idx, SPEC_MAX);
	v = &out->vifs[out->nvifs];
	memset(v, 0, sizeof(*v));
	memcpy(v->bridge, CFG_BRIDGE_DEFAULT, sizeof(CFG_BRIDGE_DEFAULT));
	memcpy(copy, spec, len + 1);
	n = split_fields(copy, f, VIF_FIELDS_MAX);
	if (n > VIF_FIELDS_MAX)
		return fail(ps, "vif %u: too many settings (max %u)", idx, VIF_FIELDS_MAX);
	if (n == 1 && !f[0][0])
		n = 0; /* "": every default */
	for (unsigned i = 0; i < n; i++) {
		char *eq = strchr(f[i], '=');
		const char *key, *val;
		bool is_mac, *seen;

		if (!f[i][0])
			return fail(ps, "vif %u: empty setting", idx);
		if (!eq || eq == f[i])
			return fail(ps, "vif %u: expected key=value, found '%.*s%s'", idx,
				    ECHO(f[i]));
		*eq = '\0';
		key = trim(f[i]);
		val = trim(eq + 1);
		is_mac = !strcmp(key, "mac");
		if (!is_mac && strcmp(key, "bridge"))
			return fail(ps, "vif %u: unknown key '%.*s%s'", idx, ECHO(key));
		seen = is_mac ? &seen_mac : &seen_bridge;
		if (*seen)
			return fail(ps, "vif %u: duplicate key '%s'", idx, key);
		*seen = true;
		if (!val[0])
			return fail(ps, "vif %u: empty value for '%s'", idx, key);
		if ((is_mac ? set_vif_mac : set_vif_bridge)(ps, idx, val, v) < 0)
			return -1;
	}
	out->nvifs++;
	return 0;
}

void config_vif_mac(const char *vm_name, unsigned index, uint8_t mac[6])
{
	uint8_t last = (uint8_t)index;
	/* FNV-1a's last step is a bijection on the low 40 bits (an odd
	 * multiplier), so a VM's vifs always get different MACs. */
	uint64_t h = fnv1a64(fnv1a64(FNV1A64_INIT, vm_name, strlen(vm_name)), &last, 1);

	mac[0] = MAC_LOCAL;
	for (unsigned i = 1; i < MAC_LEN; i++, h >>= 8)
		mac[i] = (uint8_t)h;
}
