/* VM configuration files: the subset of Xen's xl.cfg syntax pgvisor reads.
 *
 *   name = "hello"
 *   kernel = "../build/guests/hello.elf"   # relative to this file
 *   memory = 16                            # MiB
 *   vcpus = 1
 *   cmdline = "..."
 *   modules = [ "a.bin", "b.txt" ]
 *   ramdisk = "initrd.img"
 *   on_poweroff = "destroy"                # destroy | restart | preserve
 *   on_crash = "destroy"
 *   cpus = "0-1"                           # host CPUs its vCPUs may run on
 *   trap = [ "default", "rdtsc" ]         # presets and traps (trap_policy.h)
 *
 * File names are resolved relative to the directory of the config file and
 * normalised (".", ".." and repeated "/" removed), so they match the names
 * scripts/mkiso gives the Multiboot2 modules. */
#ifndef PGVISOR_CONFIG_H
#define PGVISOR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define VM_NAME_MAX 32
#define CFG_PATH_MAX 128
#define CFG_CMDLINE_MAX 256
#define VM_MAX_MODULES 8
#define VM_MAX_VCPUS 8
#define VM_MIN_MEMORY_MIB 1
#define VM_MAX_MEMORY_MIB 65536
#define CFG_MAX_CPU 31 /* host CPU numbers in cpus = "..." */
#define CFG_CPUS_ALL 0xffffffffu

enum vm_action {
	VM_ACTION_DESTROY,
	VM_ACTION_RESTART,
	VM_ACTION_PRESERVE,
};

struct vm_config {
	char name[VM_NAME_MAX];
	char kernel[CFG_PATH_MAX];
	char ramdisk[CFG_PATH_MAX]; /* "" when none */
	char cmdline[CFG_CMDLINE_MAX];
	uint32_t memory_mib;
	uint32_t vcpus;
	unsigned nmodules;
	char modules[VM_MAX_MODULES][CFG_PATH_MAX];
	enum vm_action on_poweroff;
	enum vm_action on_crash;
	uint32_t cpus;	/* bit per host CPU; 0: not given, the hypervisor places it */
	uint32_t traps; /* TRAP_BIT(enum trap) set */
};

/* Parses one config file. path is the file's own name (used to resolve
 * relative file names and in messages). On error returns -1 and writes one
 * line "PATH:LINE: problem" (no newline) into err. Defaults: memory 16,
 * vcpus 1, cmdline "", on_poweroff/on_crash destroy, trap "default"; name and kernel are
 * required. */
int config_parse(const char *text, size_t len, const char *path, struct vm_config *out, char *err,
		 size_t errlen);

/* dir_of(base) joined with rel, normalised; an absolute rel is only
 * normalised. Returns -1 when the result does not fit in outlen. */
int config_resolve_path(const char *base, const char *rel, char *out, size_t outlen);

const char *vm_action_name(enum vm_action a);

#endif
