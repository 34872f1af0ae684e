/* The hypervisor's C entry point, reached in long mode on the boot CPU from
 * boot/entry32.S (Multiboot2) or boot/entry64_efi.S (our UEFI loader): set up the machine, enter
 * VMX operation, create the VMs the configs describe, run them, report, power off. */
#include <stdbool.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "arch/x86/fault_inject.h"
#include "arch/x86/fpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/lapic.h"
#include "arch/x86/lib/cmdline.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/paging.h"
#include "arch/x86/percpu.h"
#include "arch/x86/pic.h"
#include "arch/x86/power.h"
#include "arch/x86/smp.h"
#include "arch/x86/stack_canary.h"
#include "arch/x86/tsc.h"
#include "boot/boot_info.h"
#include "boot/multiboot2_info.h"
#include "drivers/console.h"
#include "drivers/fbcon.h"
#include "drivers/net/e1000_pci.h"
#include "drivers/ps2kbd.h"
#include "drivers/selftest.h"
#include "drivers/serial.h"
#include "drivers/serial_irq.h"
#include "drivers/storage/disk_bench.h"
#include "drivers/storage/storage.h"
#include "vmm/console/console_input.h"
#include "vmm/core/console_hooks.h"
#include "vmm/core/end_checks.h"
#include "vmm/core/runqueue.h"
#include "vmm/core/sched.h"
#include "vmm/core/summary.h"
#include "vmm/core/vm_lifecycle.h"
#include "vmm/core/watchdog.h"
#include "vmm/cpu/cpuid_policy.h"
#include "vmm/cpu/vmcs_shadow.h"
#include "vmm/debug/gdb_target.h"
#include "vmm/load/config.h"
#include "vmm/migrate/migrate_remote.h"
#include "vmm/vm/host_ip.h"
#include "vmm/vm/uplinks.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define PGVISOR_VERSION "0.1"
#define LOW_MEMORY_END 0x100000ull /* BIOS data, EBDA, ROMs, AP trampoline */
#define MIB (1ull << 20)
#define CONFIG_SUFFIX ".cfg"

extern char __image_start[], __image_end[];
void kmain(uint32_t magic, uint64_t info);

static struct boot_info boot_info;

static __attribute__((noreturn)) void finish(const char *result)
{
	kprintf("pgvisor: result: %s\n", result);
	power_off();
}

/* The boot CPU's; the APs' come from the page allocator (arch/x86/smp.c). */
static uint8_t boot_ist_stacks[IST_STACKS_SIZE] __attribute__((aligned(16)));

extern char boot_stack[], boot_stack_top[];

/* The boot CPU's stacks: the boot stack when this is it (pgvisor.efi's
 * loader may start us on another) and the IST stacks. */
static void plant_boot_canaries(void)
{
	char *here = __builtin_frame_address(0);

	if (here > boot_stack && here < boot_stack_top)
		stack_canary_plant(boot_stack, 0, "stack");
	stack_canary_plant(boot_ist_stacks, 0, "#DF stack");
	stack_canary_plant(boot_ist_stacks + IST_STACK_SIZE, 0, "NMI stack");
}

/* Free RAM once the image, the boot files and low memory were taken out:
 * what the hypervisor allocates after that is its own footprint. */
static uint64_t free_after_boot;

static void memory_init(const struct boot_info *bi)
{
	uint64_t top = 0, usable = 0, map_top;

	for (unsigned i = 0; i < bi->nmem; i++) {
		const struct mem_range *r = &bi->mem[i];
		if (r->type != MEM_USABLE)
			continue;
		page_alloc_add(r->base, r->length);
		usable += r->length;
		if (r->base + r->length > top)
			top = r->base + r->length;
	}
	page_alloc_reserve(0, LOW_MEMORY_END);
	page_alloc_reserve((uint64_t)__image_start, (uint64_t)(__image_end - __image_start));
	page_alloc_reserve(bi->info_start, bi->info_end - bi->info_start);
	for (unsigned i = 0; i < bi->nfiles; i++)
		page_alloc_reserve((uint64_t)bi->files[i].data, bi->files[i].size);
	free_after_boot = page_alloc_free_bytes();
	/* The identity map also covers the framebuffer and, under UEFI, every
	 * range of the map: the runtime services run from theirs. */
	map_top = top;
	if (bi->fb.addr && bi->fb.addr + (uint64_t)bi->fb.pitch * bi->fb.height > map_top)
		map_top = bi->fb.addr + (uint64_t)bi->fb.pitch * bi->fb.height;
	for (unsigned i = 0; bi->efi_system_table && i < bi->nmem; i++)
		if (bi->mem[i].base + bi->mem[i].length > map_top)
			map_top = bi->mem[i].base + bi->mem[i].length;
	if (paging_init(map_top))
		panic("out of memory for the hypervisor's page tables");
	kprintf("pgvisor: memory: %llu MiB usable, top %#llx, %llu MiB free for VMs\n",
		(unsigned long long)(usable / MIB), (unsigned long long)top,
		(unsigned long long)(page_alloc_free_bytes() / MIB));
}

static void report_acpi(void)
{
	const struct acpi_info *a = acpi_get();

	if (!a->found) {
		kprintf("pgvisor: ACPI: no RSDP found\n");
		return;
	}
	kprintf("pgvisor: ACPI: revision %u, OEM '%s', %u tables, S5 %s\n", a->revision, a->oem_id,
		a->ntables, a->s5_valid ? "found" : "not found");
}

/* After self-tests: whether this machine could run VMs at all. */
static void report_vtx(void)
{
	char why[160];

	if (vmx_check_support(why, sizeof(why)))
		kprintf("pgvisor: VT-x: not available: %s\n", why);
	else
		kprintf("pgvisor: VT-x: available\n");
}

static void vmx_start(void)
{
	char why[160];

	if (vmx_check_support(why, sizeof(why))) {
		kprintf("pgvisor: error: VT-x is not available: %s\n", why);
		finish("no-vtx");
	}
	vmx_read_caps(&vmx_caps);
	/* "no-apicv" on pgvisor's command line: the vLAPIC wholly emulated,
	 * as on CPUs without APIC virtualization. */
	if (strstr(boot_info.cmdline, "no-apicv")) {
		vmx_caps_hide_apicv(&vmx_caps);
		kprintf("pgvisor: APIC virtualization off (no-apicv)\n");
	}
	/* "no-vid": APIC virtualization without virtual-interrupt delivery. */
	if (strstr(boot_info.cmdline, "no-vid")) {
		vmx_caps_hide_vid(&vmx_caps);
		kprintf("pgvisor: virtual-interrupt delivery off (no-vid)\n");
	}
	if (vmx_compute_controls(&vmx_caps, &vmx_controls, why, sizeof(why))) {
		kprintf("pgvisor: error: VT-x is not available: %s\n", why);
		finish("no-vtx");
	}
	if (vmx_enable(&vmx_caps, why, sizeof(why))) {
		kprintf("pgvisor: error: VT-x is not available: %s\n", why);
		finish("no-vtx");
	}
	const struct vmx_controls *c = &vmx_controls;
	kprintf("pgvisor: VT-x: EPT (2M pages %s, 1G pages %s, A/D %s), VPID %s, "
		"unrestricted guest, preemption timer %s\n",
		c->ept_2mb ? "yes" : "no", c->ept_1gb ? "yes" : "no", c->ept_ad ? "yes" : "no",
		c->vpid ? "yes" : "no", c->preemption_timer ? "yes" : "no");
	/* "no-vmcs-shadowing": every VMREAD/VMWRITE of a guest hypervisor
	 * exits, as on CPUs without it (for comparing). */
	if (!strstr(boot_info.cmdline, "no-vmcs-shadowing"))
		vmcs_shadow_init();
	if (vmcs_shadow_fields())
		kprintf("pgvisor: VT-x: VMCS shadowing for guest hypervisors (%u of %u fields)\n",
			vmcs_shadow_fields(), NESTED_VMCS_FIELDS);
}

/* What an AP does before it may run guests: the same VMXON as the boot
 * CPU's, with the controls the boot CPU computed. */
static int vmx_start_ap(char *why, size_t len)
{
	return vmx_check_support(why, len) || vmx_enable(&vmx_caps, why, len);
}

/* "serial-poll-ms=N" (1 to SERIAL_POLL_MS_MAX) on the command line: how
 * often COM1 is polled without its interrupt, else SERIAL_POLL_US. A UART
 * that holds typed input until it is read (pgvisor's, QEMU's) loses none
 * when polled seldom; a nested pgvisor, whose every poll ends its own
 * guest's slice, runs its guests faster (configs/nested/). */
#define SERIAL_POLL_MS_MAX 100u
#define US_PER_MS 1000u
#define DECIMAL 10u

static unsigned serial_poll_us(void)
{
	char text[8];
	unsigned ms = 0;

	if (!cmdline_value(boot_info.cmdline, "serial-poll-ms", text, sizeof(text)))
		return SERIAL_POLL_US;
	for (const char *c = text; *c; c++) {
		if (*c < '0' || *c > '9' || ms > SERIAL_POLL_MS_MAX) {
			ms = 0;
			break;
		}
		ms = ms * DECIMAL + (unsigned)(*c - '0');
	}
	if (ms < 1 || ms > SERIAL_POLL_MS_MAX) {
		kprintf("pgvisor: serial-poll-ms=%s: not 1 to %u, polling every %u us\n", text,
			SERIAL_POLL_MS_MAX, SERIAL_POLL_US);
		return SERIAL_POLL_US;
	}
	return ms * US_PER_MS;
}

static bool is_config(const char *name)
{
	size_t n = strlen(name), s = strlen(CONFIG_SUFFIX);

	return n > s && !strcmp(name + n - s, CONFIG_SUFFIX);
}

/* The VM whose config names file `name` among its modules (a nested
 * pgvisor's own VM config is its file, not one of this machine's VMs),
 * or NULL. */
static const char *module_of(const struct boot_info *bi, const char *name)
{
	static struct vm_config other;
	char err[8];

	for (unsigned i = 0; i < bi->nfiles; i++) {
		const struct boot_file *f = &bi->files[i];
		if (!is_config(f->name) || !strcmp(f->name, name) ||
		    config_parse((const char *)f->data, f->size, f->name, &other, err, sizeof(err)))
			continue;
		for (unsigned m = 0; m < other.nmodules; m++)
			if (!strcmp(other.modules[m], name))
				return other.name;
	}
	return NULL;
}

static void create_vms(const struct boot_info *bi)
{
	for (unsigned i = 0; i < bi->nfiles; i++) {
		const struct boot_file *f = &bi->files[i];
		static struct vm_config cfg;
		char err[200];

		if (!is_config(f->name))
			continue;
		const char *owner = module_of(bi, f->name);
		if (owner) {
			kprintf("pgvisor: %s: a module of vm %s, not a VM here\n", f->name, owner);
			continue;
		}
		if (config_parse((const char *)f->data, f->size, f->name, &cfg, err, sizeof(err))) {
			kprintf("pgvisor: config error: %s\n", err);
			continue;
		}
		if (!cfg.autostart) {
			kprintf("pgvisor: vm %s: not started at boot (autostart = 0); the "
				"console's "
				"create %s starts it\n",
				cfg.name, f->name);
			continue;
		}
		vm_create(&cfg, bi, runqueue_online_cpus());
	}
}

/* "fault=KIND:ARG,...": the test build's fault injection
 * (arch/x86/fault_inject.h); a normal build refuses to run with it rather
 * than run without the faults asked for. */
static void start_fault_injection(const char *cmdline)
{
	char spec[FAULT_SPEC_MAX], why[160];

	if (!cmdline_value(cmdline, "fault", spec, sizeof(spec)))
		return;
	if (fault_inject_start(spec, why, sizeof(why))) {
		kprintf("pgvisor: fault=%s: %s; not run\n", spec, why);
		finish("failure");
	}
	kprintf("pgvisor: fault injection: %s\n", spec);
}

/* "gdb=NAME": the gdb stub on COM2 holds that VM before its first
 * instruction until gdb continues it. */
static void attach_gdb(const char *cmdline)
{
	char name[VM_NAME_MAX + 1];
	struct vm *vm;

	if (!cmdline_value(cmdline, "gdb", name, sizeof(name)))
		return;
	vm = vm_named(name);
	if (!vm) {
		kprintf("pgvisor: gdb=%s: no VM of that name\n", name);
		return;
	}
	char err[160];
	if (gdb_target_attach(vm, true, err, sizeof(err)))
		kprintf("pgvisor: %s\n", err);
}

/* The boot information of either boot path into boot_info. */
static void read_boot_info(uint32_t magic, uint64_t info)
{
	char err[120];

	if (magic == BOOT_INFO_MAGIC) {
		/* Our UEFI loader filled in the structure itself. */
		memcpy(&boot_info, (const void *)info, sizeof(boot_info));
		boot_info.loader = "uefi";
		if (!boot_info.nmem)
			panic("bad boot information: the UEFI loader gave no memory map");
		return;
	}
	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("not started by a Multiboot2 boot loader (magic %#x)", magic);
	if (mb2_parse_info(info, &boot_info, err, sizeof(err)))
		panic("bad boot information: %s", err);
}

static void report_framebuffer(const struct boot_framebuffer *fb)
{
	if (!fb->addr) {
		kprintf("pgvisor: framebuffer: none\n");
		return;
	}
	kprintf("pgvisor: framebuffer: %ux%u, %u bpp, pitch %u, at %#llx, %s\n", fb->width,
		fb->height, fb->bpp, fb->pitch, (unsigned long long)fb->addr,
		fbcon_active() ? "console on it" : "not usable for a console");
}

void kmain(uint32_t magic, uint64_t info)
{
	console_init(power_off);
	kprintf("pgvisor %s: a bare-metal hypervisor for Intel VT-x\n", PGVISOR_VERSION);
	read_boot_info(magic, info);
	if (boot_info.efi_system_table)
		power_use_efi(boot_info.efi_system_table);
	percpu_init(&cpus[0], 0, boot_ist_stacks);
	plant_boot_canaries();
	idt_init();
	/* The migration key stays off the console. */
	static char shown[sizeof(boot_info.cmdline)];
	cmdline_masked(boot_info.cmdline, MIGRATE_KEY_OPTION, shown, sizeof(shown));
	kprintf("pgvisor: booted by %s (%s), command line '%s', %u files\n", boot_info.loader,
		boot_info.loader_name, shown, boot_info.nfiles);
	start_fault_injection(boot_info.cmdline);
	if (boot_info.mem_dropped)
		kprintf("pgvisor: warning: %u ranges of the memory map did not fit (at most %u)\n",
			boot_info.mem_dropped, BOOT_MAX_MEM_RANGES);

	memory_init(&boot_info);
	/* Mapped now wherever it lies: lines so far appear on it too. */
	size_t cells = fbcon_cells_size(&boot_info.fb);
	fbcon_init(&boot_info.fb, cells ? page_alloc((cells + PAGE_SIZE - 1) / PAGE_SIZE) : NULL,
		   cells);
	report_framebuffer(&boot_info.fb);
	if (boot_info.efi_system_table)
		kprintf("pgvisor: UEFI system table at %#llx: power-off through ResetSystem\n",
			(unsigned long long)boot_info.efi_system_table);
	acpi_init(boot_info.acpi_rsdp);
	report_acpi();
	pic_disable();
	ps2kbd_init();
	kprintf("pgvisor: console input: %s%s%s\n", serial_present() ? "COM1" : "",
		serial_present() && ps2kbd_present() ? " and " : "",
		ps2kbd_present()   ? "the PS/2 keyboard"
		: serial_present() ? ""
				   : "none");
	tsc_calibrate();
	lapic_init_cpu();
	if (tsc_enumerated_hz() && tsc_enumerated_hz() != tsc_hz())
		kprintf("pgvisor: TSC %llu kHz, measured against the PIT (CPUID leaf 0x15 states "
			"%llu kHz)\n",
			(unsigned long long)(tsc_hz() / 1000),
			(unsigned long long)(tsc_enumerated_hz() / 1000));
	else
		kprintf("pgvisor: TSC %llu kHz\n", (unsigned long long)(tsc_hz() / 1000));
	fpu_init_cpu();
	/* Before VT-x: the machine's disks and NICs work without it
	 * (self-tests on QEMU TCG). */
	storage_init();
	e1000_probe_all();
	if (selftest_requested(boot_info.cmdline)) {
		bool passed = selftest_run(boot_info.cmdline);
		report_vtx();
		finish(passed ? "success" : "failure");
	}
	/* "diskbench=NAME": how fast the driver itself moves that partition,
	 * before any VM may touch it (make bench's yardstick). */
	char bench_part[CFG_PART_NAME_MAX + 1];
	if (cmdline_value(boot_info.cmdline, "diskbench", bench_part, sizeof(bench_part)))
		disk_bench(bench_part);
	vmx_start();
	cpuid_policy_init();
	/* "no-preemption-timer" on pgvisor's command line: schedule with the
	 * LAPIC timer, as on CPUs without the VMX-preemption timer. */
	if (strstr(boot_info.cmdline, "no-preemption-timer") && vmx_controls.preemption_timer) {
		vmx_controls.preemption_timer = false;
		/* Neither is ever a default-1 control; saving the timer without
		 * the timer is an invalid VMCS (SDM 26.2.1.2). */
		vmx_controls.pinbased &= ~PIN_PREEMPTION_TIMER;
		vmx_controls.exit &= ~EXIT_SAVE_PREEMPTION_TIMER;
		vmx_controls.save_preemption_timer = false;
		kprintf("pgvisor: scheduling with the LAPIC timer (no-preemption-timer)\n");
	}

	/* "memhash": each VM's RAM hashed at load and at its end (tests). */
	if (strstr(boot_info.cmdline, "memhash"))
		end_checks_enable_memhash();
	struct smp_options smp;
	smp_parse_options(boot_info.cmdline, &smp);
	smp_start_aps(&smp, vmx_start_ap, sched_run);
	runqueue_init();

	uint64_t image = (uint64_t)(__image_end - __image_start);
	uint64_t allocated = free_after_boot - page_alloc_free_bytes();
	kprintf("pgvisor: memory: the hypervisor uses %llu KiB before its first VM (image %llu "
		"KiB, "
		"page tables and per-CPU data %llu KiB)\n",
		(unsigned long long)((image + allocated) >> 10), (unsigned long long)(image >> 10),
		(unsigned long long)(allocated >> 10));
	/* Only a serial line loses input when polled late (the keyboard
	 * holds its keys until the i8042 is read), and only without its
	 * interrupt: the boot CPU takes it, guest running or idle. */
	static struct core_console console = { .poll = console_input_poll,
					       .run_commands = console_input_run,
					       .idle = console_input_idle,
					       .vcpu_info = console_input_vcpu_info,
					       .input_polled = console_input_polled };
	if (serial_irq_start()) {
		console.input_arrived = serial_rx_arrived_flag();
		kprintf("pgvisor: serial input by interrupt (IRQ %u through the I/O APIC)\n",
			SERIAL_COM1_IRQ);
	} else if (serial_present()) {
		console.poll_interval_us = serial_poll_us();
		kprintf("pgvisor: serial input polled every %u us\n", console.poll_interval_us);
	}
	core_set_console(&console);
	host_ip_init(boot_info.cmdline);
	uplinks_init(boot_info.cmdline);
	migrate_remote_init(boot_info.cmdline, &boot_info);
	/* What the VMs take must come back when they end, but for what the
	 * VM table keeps of each (vm_kept_bytes). */
	uint64_t free_before_vms = page_alloc_free_bytes() / PAGE_SIZE;
	kprintf("pgvisor: memory: %llu pages free before the VMs\n",
		(unsigned long long)free_before_vms);
	create_vms(&boot_info);
	uplinks_check_used();
	attach_gdb(boot_info.cmdline);
	if (!vm_count()) {
		kprintf("pgvisor: no VM to run\n");
		finish("failure");
	}
	sched_init(SCHED_DEFAULT_SLICE_US);
	watchdog_init();
	console_input_init(&boot_info);
	uint64_t start = rdtsc();
	smp_release();
	sched_run();
	smp_wait_aps_done();
	/* Guest work over host time: the measure of what more CPUs give. */
	kprintf("pgvisor: the VMs ran for %llu TSC ticks on %u CPU%s\n",
		(unsigned long long)(rdtsc() - start), smp_online_count(),
		smp_online_count() == 1 ? "" : "s");
	uint64_t kept = 0;
	for (unsigned i = 0; i < vm_count(); i++)
		kept += vm_kept_bytes(vm_at(i)) / PAGE_SIZE;
	kprintf("pgvisor: memory: %llu pages free after the VMs, %llu kept in the VM table for "
		"%u VMs\n",
		(unsigned long long)(page_alloc_free_bytes() / PAGE_SIZE), (unsigned long long)kept,
		vm_count());
	summary_print();
	migrate_remote_summary();
	power_off();
}
