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
 *   on_unbacked = "ignore"                 # ignore | crash
 *   cpus = "0-1"                           # host CPUs its vCPUs may run on
 *   trap = [ "default", "rdtsc" ]         # presets and traps (trap_policy.h)
 *   disk = [ "root.ext4,raw,vda,rw", "tools.img,raw,vdb,ro" ]
 *   vif = [ "mac=02:00:00:00:00:01,bridge=lan0", "" ]
 *   virtio_console = 1                     # 0 (default) or 1
 *   pv = [ "kvm-clock" ]                   # paravirtual features, or "none"
 *   timer_mode = "no_delay_for_missed_ticks" # or "delay_for_missed_ticks",
 *                                          # "no_missed_ticks_pending"
 *   autostart = 0                          # 1 (default) or 0
 *   nested = 1                             # VMX for the guest (config_nested.h)
 *   nested_profile = "kvm"                 # or "host"
 *
 * File names are resolved relative to the directory of the config file and
 * normalised (".", ".." and repeated "/" removed), so they match the names
 * scripts/mkiso gives the Multiboot2 modules.
 *
 * disk: xl's positional "target,format,vdev[,access]" (at most VM_MAX_DISKS).
 * target is a file name like kernel's (so it may not contain ','), carried
 * to the boot medium by scripts/vmfiles.py and loaded as a boot file; format
 * must be "raw"; vdev is vda to vdz, each once; access is "rw"/"w"
 * (writable, the default) or "ro"/"r". Blanks around fields are ignored.
 * A target "part:NAME" is instead the GPT partition named NAME (at most
 * CFG_PART_NAME_MAX characters) on a disk pgvisor drives
 * (drivers/storage/partition.h): nothing is loaded, the VM reads and
 * writes the machine's disk, and what it writes outlives it.
 *
 * vif: xl's comma-separated key=value list (at most VM_MAX_VIFS); "" is a
 * vif with every default. mac = six two-digit hex octets "xx:xx:...",
 * unicast and not all zero; without it the parser derives a stable locally
 * administered one from the VM name and the vif's index (config_vif_mac).
 * bridge = the L2 switch the vif joins (vmm/dev/net_switch.h), letters,
 * digits, '_', '.', '-', default "br0" (CFG_BRIDGE_DEFAULT).
 *
 * virtio_console: 1 gives the VM a virtio-console PCI function (Linux's
 * /dev/hvc0) beside COM1; its output is printed like COM1's, and typed keys
 * go to it instead of COM1 once its driver is live and has posted receive
 * buffers (vmm/dev/virtio/virtio_console.h). 0, the default: none.
 *
 * on_unbacked: what a read or write of guest-physical memory with nothing
 * behind it (above its RAM, the PCI hole, the firmware range: no RAM and no
 * device) does. "ignore", the default, is the bare machine's answer: reads
 * return all-ones, writes are dropped, and the VM goes on (the summary
 * counts them). "crash" stops the VM at the first one, for tests that must
 * see a stray access. An instruction fetch there always stops the VM.
 *
 * autostart: 0 leaves the VM out at boot; the operator starts it later
 * with the console's "create" command. 1, the default: started at boot.
 *
 * pv: the paravirtual features offered, "none" or a list (PV_* below);
 * all of them by default. */
#ifndef PGVISOR_CONFIG_H
#define PGVISOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/dev/tick_backlog.h"
#include "vmm/nested/nested_caps.h"

#define VM_NAME_MAX 32
#define CFG_PATH_MAX 128
/* A guest command line: 2,048 characters and its NUL, as much as Linux
 * takes (COMMAND_LINE_SIZE); test kernels pass long lists of test names. */
#define CFG_CMDLINE_MAX 2049
#define VM_MAX_MODULES 8
#define VM_MAX_VCPUS 8
#define VM_MIN_MEMORY_MIB 1
#define VM_MAX_MEMORY_MIB 65536
#define CFG_MAX_CPU 31 /* host CPU numbers in cpus = "..." */
#define CFG_CPUS_ALL 0xffffffffu
#define VM_MAX_DISKS 4
#define VM_MAX_VIFS 2
#define CFG_PART_PREFIX "part:"
#define CFG_PART_NAME_MAX 36 /* a GPT partition name: 36 UTF-16 units */
#define CFG_BRIDGE_MAX 16    /* as NET_BRIDGE_NAME_MAX and Linux's IFNAMSIZ */
#define CFG_BRIDGE_DEFAULT "br0"
/* Paravirtual features a VM is offered (config key pv; all by default):
 * with any of them the guest finds KVM's CPUID signature
 * (vmm/abi/kvm_para.h). */
#define PV_KVM_CLOCK (1u << 0)	/* kvm-clock: MSR_KVM_SYSTEM_TIME_NEW, WALL_CLOCK_NEW */
#define PV_STEAL_TIME (1u << 1) /* MSR_KVM_STEAL_TIME: time it waited for a CPU */
/* Flushes asked for in the steal-time record instead of IPIs to vCPUs
 * that are not running: offered only together with steal-time. */
#define PV_TLB_FLUSH (1u << 2)
#define PV_SEND_IPI (1u << 3)	 /* IPIs to many vCPUs in one hypercall */
#define PV_SCHED_YIELD (1u << 4) /* let a preempted IPI target run first */
#define PV_EOI (1u << 5)	 /* EOIs signalled in memory, without an exit */
/* A vCPU in HLT with interrupts off wakes on KVM_HC_KICK_CPU (Linux's PV
 * spinlocks), once the guest has read that this is offered. */
#define PV_UNHALT (1u << 6)
#define PV_ALL                                                                                     \
	(PV_KVM_CLOCK | PV_STEAL_TIME | PV_TLB_FLUSH | PV_SEND_IPI | PV_SCHED_YIELD | PV_EOI |     \
	 PV_UNHALT)

enum vm_action {
	VM_ACTION_DESTROY,
	VM_ACTION_RESTART,
	VM_ACTION_PRESERVE,
};

enum vm_unbacked {
	VM_UNBACKED_IGNORE,
	VM_UNBACKED_CRASH,
};

struct vm_disk_config {
	char target[CFG_PATH_MAX]; /* resolved like kernel, or a partition name */
	bool partition;		   /* target names a partition ("part:NAME") */
	char vdev[8];		   /* "vda" ... "vdz" */
	bool writable;
};

struct vm_vif_config {
	uint8_t mac[6];
	bool mac_given; /* false: mac was derived by config_vif_mac */
	char bridge[CFG_BRIDGE_MAX];
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
	enum vm_unbacked on_unbacked;
	uint32_t cpus;	/* bit per host CPU; 0: not given, the hypervisor places it */
	uint32_t traps; /* TRAP_BIT(enum trap) set */
	unsigned ndisks;
	struct vm_disk_config disks[VM_MAX_DISKS];
	unsigned nvifs;
	struct vm_vif_config vifs[VM_MAX_VIFS];
	bool virtio_console;
	uint32_t pv;			    /* PV_* */
	enum timer_mode timer_mode;	    /* missed periodic ticks (vmm/dev/tick_backlog.h) */
	bool autostart;			    /* started at boot (else by the console's "create") */
	bool nested;			    /* VMX offered to the guest (vmm/nested/) */
	enum nested_profile nested_profile; /* which VMX features it offers */
};

/* Parses one config file. path is the file's own name (used to resolve
 * relative file names and in messages). On error returns -1 and writes one
 * line "PATH:LINE: problem" (no newline) into err. Defaults: memory 16,
 * vcpus 1, cmdline "", on_poweroff/on_crash destroy, on_unbacked ignore,
 * trap "default", pv all, timer_mode no_delay_for_missed_ticks, no
 * disks, no vifs, no virtio console, autostart, no nested VMX (profile
 * "kvm" when it is turned on); name and kernel are required. */
int config_parse(const char *text, size_t len, const char *path, struct vm_config *out, char *err,
		 size_t errlen);

/* dir_of(base) joined with rel, normalised; an absolute rel is only
 * normalised. Returns -1 when the result does not fit in outlen. */
int config_resolve_path(const char *base, const char *rel, char *out, size_t outlen);

/* The MAC of a vif without mac=: 02:h0:h1:h2:h3:h4, h the 64-bit FNV-1a
 * hash of the VM name's bytes followed by one byte, the vif's index
 * (0-based), and h0 its lowest byte. 0x02: locally administered (bit 1), unicast (bit 0 clear), so
 * it cannot clash with a vendor's address; stable across boots. */
void config_vif_mac(const char *vm_name, unsigned index, uint8_t mac[6]);

const char *vm_action_name(enum vm_action a);
const char *vm_unbacked_name(enum vm_unbacked u);

#endif
