#include "vmm/core/sched.h"

#include "arch/x86/cpu.h"
#include "arch/x86/debug_regs.h"
#include "arch/x86/fpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "vmm/core/console_hooks.h"
#include "vmm/core/runqueue.h"
#include "vmm/core/vm_lifecycle.h"
#include "vmm/core/watchdog.h"
#include "vmm/cpu/apicv.h"
#include "vmm/cpu/delayed_time.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/fault_entry.h"
#include "vmm/cpu/interrupts.h"
#include "vmm/cpu/kvm_pv.h"
#include "vmm/cpu/msr_policy.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vm/platform.h"
#include "vmm/vm/uplinks.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define US_PER_S 1000000ull
#define PREEMPT_MAX 0xffffffffull
/* An idle CPU looks at the machine's NICs this often: they never
 * interrupt, and a halted VM's frames must not wait a whole slice. */
#define UPLINK_POLL_US 500ull
/* The slice of a vCPU alone on its CPU (runs_alone): nothing else wants
 * the CPU, so ending a slice would only cost an exit; what does come
 * (typed input, another CPU's kick) ends it at once. */
#define LONE_SLICE_US 1000000ull
/* How long a guest runs at most with host interrupts held back
 * (hold_host_interrupts, guest_holds_host_interrupts): the 16550's
 * 16-byte FIFO fills in 1.39 ms at 115200 baud. */
#define HELD_INTERRUPTS_US 1000ull
/* How long after typed input its CPU counts as in a typing session
 * (guest_holds_host_interrupts). */
#define TYPING_US 5000000ull

static uint64_t slice_tsc;		   /* a time slice in TSC ticks */
static uint64_t lone_slice_tsc;		   /* LONE_SLICE_US in TSC ticks */
static uint64_t uplink_poll_tsc;	   /* UPLINK_POLL_US in TSC ticks */
static uint64_t console_poll_tsc;	   /* the console's poll_interval_us; 0: none */
static uint64_t held_interrupts_tsc;	   /* HELD_INTERRUPTS_US in TSC ticks */
static uint64_t typing_tsc;		   /* TYPING_US in TSC ticks */
static const struct core_console *console; /* core_console(), read once */

/* Each CPU's own scheduling state (only that CPU writes it). */
struct cpu_sched {
	volatile bool active; /* in sched_run */
	struct sched_stats stats;
	struct vcpu *last_vcpu;
	uint64_t last_exit_tsc; /* when last_vcpu's slice ended */
	/* When the boot CPU next polls the console, guest running or not
	 * (UINT64_MAX on the others, and without console_poll_tsc). */
	uint64_t console_due;
	uint64_t typing_until; /* the end of the typing session (TYPING_US) */
};
static struct cpu_sched per_cpu[MAX_CPUS];
static struct sched_stats total;

void sched_init(uint64_t slice_us)
{
	console = core_console();
	slice_tsc = tsc_hz() / US_PER_S * slice_us;
	if (!slice_tsc)
		slice_tsc = 1;
	uplink_poll_tsc = tsc_hz() / US_PER_S * UPLINK_POLL_US;
	lone_slice_tsc = tsc_hz() / US_PER_S * LONE_SLICE_US;
	console_poll_tsc = tsc_hz() / US_PER_S * console->poll_interval_us;
	held_interrupts_tsc = tsc_hz() / US_PER_S * HELD_INTERRUPTS_US;
	typing_tsc = tsc_hz() / US_PER_S * TYPING_US;
	for (unsigned i = 0; i < MAX_CPUS; i++)
		per_cpu[i].console_due = UINT64_MAX;
	if (console_poll_tsc)
		per_cpu[0].console_due = 0;
	/* The preemption timer is armed for at most a slice: it then always
	 * fits the 32-bit field. */
	if (slice_tsc > PREEMPT_MAX)
		slice_tsc = PREEMPT_MAX;
	if (lone_slice_tsc > PREEMPT_MAX)
		lone_slice_tsc = PREEMPT_MAX;
	if (lone_slice_tsc < slice_tsc)
		lone_slice_tsc = slice_tsc;
}

bool sched_cpu_active(unsigned cpu)
{
	return cpu < MAX_CPUS && per_cpu[cpu].active;
}

const struct sched_stats *sched_get_stats(void)
{
	total = (struct sched_stats){ 0, 0 };
	for (unsigned i = 0; i < MAX_CPUS; i++) {
		total.switches += per_cpu[i].stats.switches;
		total.switch_ticks += per_cpu[i].stats.switch_ticks;
	}
	return &total;
}

/* Makes v's VMCS current and its FPU state live on this CPU. */
static int switch_to(struct vcpu *v)
{
	struct cpu *c = this_cpu();

	if (c->loaded_vcpu != v) {
		if (vmcs_load(v->vmcs)) {
			vm_stop(v->vm, VM_END_CRASH, "VMPTRLD of its VMCS failed");
			return -1;
		}
		c->loaded_vcpu = v;
		/* The VMCS may have been set up on another CPU. */
		vmcs_write_host_state();
	}
	if (v->flush_tlb) {
		vmx_flush_guest(vm_eptp(v->vm), vm_vpid(v->vm));
		v->flush_tlb = false;
	}
	if (c->fpu_owner != v) {
		if (c->fpu_owner) {
			fpu_save(c->fpu_owner->fpu_area, c->fpu_owner->xcr0);
			msr_lazy_save(c->fpu_owner->lazy_msrs);
			c->fpu_owner->regs.cr2 = read_cr2();
			debug_regs_save(&c->fpu_owner->dbg);
		}
		fpu_restore(v->fpu_area, v->xcr0);
		msr_lazy_load(v->lazy_msrs);
		write_cr2(v->regs.cr2);
		debug_regs_load(&v->dbg);
		c->fpu_owner = v;
	}
	return 0;
}

void vcpu_set_cr2(struct vcpu *v, uint64_t value)
{
	v->regs.cr2 = value;
	if (this_cpu()->fpu_owner == v)
		write_cr2(value);
}

/* Arms the VMX-preemption timer for until, the end of the slice or the
 * VM's next device event, whichever comes first (SDM 25.5.1). now is the
 * TSC at the last exit: the timer may fire late by that exit's handling,
 * never early, and the exit path needs no RDTSC of its own. until >= now:
 * the run loop handles a moment that has come before the entry. */
static inline void arm_preemption_timer(uint64_t now, uint64_t until)
{
	/* At most slice_tsc (now is past the slice's start): no clamp. */
	vmwrite(VMCS_PREEMPTION_TIMER_VALUE, (until - now) >> vmx_controls.preemption_shift);
}

static inline uint64_t earlier(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void entry_failed(struct vcpu *v)
{
	uint64_t err = vmread(VMCS_VM_INSTRUCTION_ERROR);

	vm_stop(v->vm, VM_END_CRASH, "%s failed: VM-instruction error %llu%s",
		v->launched ? "VMRESUME" : "VMLAUNCH", (unsigned long long)err,
		err == VMX_ERROR_ENTRY_INVALID_CONTROLS	    ? " (invalid control field)"
		: err == VMX_ERROR_ENTRY_INVALID_HOST_STATE ? " (invalid host state)"
							    : "");
}

/* INIT and SIPI from another vCPU's ICR (platform.c): INIT leaves the vCPU
 * waiting for SIPI, SIPI starts it in real mode at the vector's page. The
 * vCPU is not entered in the wait-for-SIPI activity state: the host CPU
 * would sit in it until the preemption timer; off the run list it costs
 * nothing. Returns whether v may run now. */
static bool start_ap(struct vcpu *v)
{
	struct vcpu_boot_state s = { .real_mode = true };
	char err[120];

	if (vcpu_start_apply(&v->start, &s.sipi_vector)) {
		vcpu_end_halt(v);
		/* A vCPU in a nested guest takes its own VMCS back first. */
		if (v->nested.in_l2)
			vmcs_release(v);
		if (vmcs_setup(v, &s, err, sizeof(err))) {
			vm_stop(v->vm, VM_END_CRASH, "vCPU %u: %s", v->id, err);
			return false;
		}
		kvm_pv_init_signal(v);
		/* Out of VMX operation with the fresh VMCS: pgvisor does not
		 * block INIT in VMX operation as the CPU does (SDM 24.8). */
		nested_vcpu_reset(&v->nested);
	}
	return vcpu_start_runnable(&v->start);
}

/* The console is due: poll it, and set when it is next. */
static void poll_console(struct cpu_sched *cs, uint64_t now)
{
	console->poll();
	cs->console_due = now + console_poll_tsc;
}

/* Whether v is alone on this CPU: no other vCPU queued here, and nothing
 * the scheduler must look at between slices (the NICs' uplinks, console
 * input read only by polling, a debugger). Its slice is then
 * LONE_SLICE_US, ended early by whatever asks for the scheduler. */
static bool runs_alone(unsigned cpu, const struct vcpu *v)
{
	return runqueue_length(cpu) == 1 && !uplinks_present() && !v->vm->debugger &&
	       v->vm->dirty.mode == DIRTY_OFF && /* a migration copies between slices */
	       !console_poll_tsc && !(console->input_polled && console->input_polled());
}

/* Whether host interrupts must wait at the APIC while v's guest runs.
 * Bochs 2.7's VMX (cpu/event.cc, InterruptAcknowledge) delivers a pending
 * virtual interrupt in place of an external-interrupt exit, whatever the
 * guest's RFLAGS.IF: a host interrupt arriving while the guest runs with
 * IF = 0 and RVI set nests the guest's interrupts until its stack
 * overflows, where the CPU exits (SDM Vol. 3 29.2.2 delivers only to IF =
 * 1). A vector can only be pending when RVI names one at entry (the guest
 * itself raises none without an exit), so only such entries hold them,
 * for at most held_interrupts_tsc. Only interrupt-driven input needs it:
 * without, host interrupts do not come while a guest runs. */
static bool must_hold_host_interrupts(struct vcpu *v)
{
	return v->vid && console->input_arrived && apicv_vector_pending(v);
}

/* Whether host interrupts may wait while the guest runs without its
 * choosing: Bochs 2.7 holds them from a guest entered at IF = 0 until its
 * next exit (it reevaluates its interrupt mask only when an entry changes
 * IF, and loads the guest's RFLAGS before it is in VMX non-root
 * operation), so a guest spinning with interrupts off would let the
 * 16550's FIFO overflow under typed input. Hardware does not hold them
 * (external-interrupt exiting ignores IF, SDM 25.2). Only while the
 * operator types (a typing session, TYPING_US since the last input on
 * this CPU), so a CPU-bound guest pays nothing otherwise. */
static bool guest_holds_host_interrupts(const struct cpu_sched *cs, uint64_t now)
{
	return now < cs->typing_until && !(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF);
}

/* Typed input arrived by interrupt on this CPU: a typing session goes on. */
static inline __attribute__((always_inline)) bool input_arrived(struct cpu_sched *cs, uint64_t now)
{
	bool *arrived = console->input_arrived;

	if (!arrived || !__atomic_load_n(arrived, __ATOMIC_ACQUIRE) ||
	    !__atomic_exchange_n(arrived, false, __ATOMIC_ACQ_REL))
		return false;
	cs->typing_until = now + typing_tsc;
	return true;
}

/* Holds back host interrupts: the TPR stops new ones at the APIC, and
 * the window takes one it had already raised (Bochs makes it spurious). */
static void hold_host_interrupts(void)
{
	cpu_write_cr8(CR8_BLOCK_ALL);
	cpu_take_pending_interrupts();
}

/* The vCPU loop: enter, handle the exit, until the VM stops, the slice
 * ends or the vCPU halts with nothing to wake it. shared (the VM is
 * spread over CPUs, and its lock held): the lock is dropped while the
 * guest runs. Always inlined with a constant shared, so a VM on one CPU
 * pays nothing for the lock. lone: the slice is a lone one (runs_alone),
 * ended by typed input and by kicks too. */
static inline __attribute__((always_inline)) void
run_loop(struct vcpu *v, uint64_t now, uint64_t slice_end, bool shared, bool lone)
{
	struct vm *vm = v->vm;
	struct cpu *c = this_cpu();
	struct cpu_sched *cs = &per_cpu[c->index];
	uint64_t kicks = c->kicks;

	for (;;) {
		/* The slice's end, the VM's device events and the console's
		 * poll, the moment the guest must be back: due ones are
		 * handled before the entry. */
		uint64_t until =
			earlier(earlier(slice_end, vm->vtime.next_deadline_tsc), cs->console_due);
		if (now >= until) {
			if (now >= cs->console_due)
				poll_console(cs, now);
			if (now >= vm->vtime.next_deadline_tsc)
				vtime_update(&vm->vtime);
			if (now >= slice_end)
				break;
			/* A device's next event may round to now itself. */
			until = earlier(earlier(slice_end, vm->vtime.next_deadline_tsc),
					cs->console_due);
			if (until < now)
				until = now;
		}
		if (v->halted) {
			if (!intr_wakes_halted(v))
				break;
			vcpu_end_halt(v);
			v->pv_unhalted = false; /* a kick is spent on the HLT it ends */
		}
		if (vm->debugger && (vm->debugger->before_entry(v) || vm->state != VM_RUNNING))
			break;
		if (!intr_idle(v)) {
			intr_before_entry(v);
			/* An injection may let a timer raise a tick it owed:
			 * back at once to deliver it (vtime_interrupt_taken). */
			until = earlier(until, vm->vtime.next_deadline_tsc);
			if (until < now)
				until = now;
		}
		bool held = must_hold_host_interrupts(v);
		if (held || guest_holds_host_interrupts(cs, now))
			until = earlier(until, now + held_interrupts_tsc);
		if (held)
			hold_host_interrupts();
		until = nested_timer_until(v, now, until);
		if (vmx_controls.preemption_timer)
			arm_preemption_timer(now, until);
		else
			lapic_timer_arm(until);
		uint64_t prev_exit_tsc = v->regs.exit_tsc;
		if (shared)
			vm_unlock(vm, true);
		int failed = vmx_enter(&v->regs, v->launched);
		if (held)
			cpu_write_cr8(0);
		if (shared)
			vm_lock(vm);
		if (failed) {
			entry_failed(v);
			break;
		}
		exit_account_entry(v, prev_exit_tsc);
		v->launched = true;
		intr_after_exit();
		if (v->pv_eoi_pending)
			kvm_pv_eoi_collect(v);
		exit_dispatch(v, (uint32_t)vmread(VMCS_EXIT_REASON));
		/* A host interrupt that came during the exit is taken here,
		 * not by an exit right after the next entry. (Bochs, too,
		 * needs this: it holds back host interrupts from a guest
		 * entered with IF = 0, external-interrupt exiting or not.) */
		cpu_take_pending_interrupts();
		/* Typed input reaches its VM now, not at the slice's end (a
		 * lone slice ends: the input may be a command to run). */
		if (input_arrived(cs, v->regs.exit_tsc)) {
			console->poll();
			if (lone)
				break;
		}
		if (vm->state != VM_RUNNING || v->yield || !vcpu_start_stays_in(&v->start))
			break;
		/* Another CPU wants this one to look (a command for its VM,
		 * a vCPU placed here). */
		if (lone && c->kicks != kicks)
			break;
		now = v->regs.exit_tsc;
	}
}

/* Runs v until its VM stops, its slice ends or it halts with nothing to
 * wake it. Returns whether the guest ran at all. Called with the VM lock
 * (vm_lock), which a spread VM's loop drops while the guest runs. */
static bool run_vcpu(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct cpu_sched *cs = &per_cpu[this_cpu()->index];

	if (!start_ap(v))
		return false;
	if (__atomic_load_n(&v->watchdog_fired, __ATOMIC_ACQUIRE)) {
		vcpu_watchdog_stop(v); /* its NMI came just after an exit */
		return false;
	}
	/* A debugger holds or stops vCPUs halted or not (gdb's Ctrl-C, the
	 * registers of every vCPU of a stopped VM). */
	if (vm->debugger && (switch_to(v) || vm->debugger->before_entry(v)))
		return false;
	if (v->halted && !intr_wakes_halted(v))
		return false;
	kvm_pv_vcpu_in(v, rdtsc());
	if (switch_to(v))
		return false;
	delayed_time_vcpu_in(v, rdtsc(), !cs->last_vcpu || cs->last_vcpu->vm != vm);
	if (!v->launched)
		fault_before_first_entry(v);
	/* The time since this vCPU's last exit was other vCPUs' too. */
	v->prof_reason = PROFILE_NO_REASON;
	v->yield = false;
	bool lone = runs_alone(this_cpu()->index, v);
	uint64_t now = rdtsc();
	uint64_t slice_end = now + (lone ? lone_slice_tsc : slice_tsc);
	uint64_t first_exit_tsc = v->regs.exit_tsc;
	if (!v->launched && !v->first_entry_tsc)
		v->first_entry_tsc = now;
	if (cs->last_vcpu && cs->last_vcpu != v && cs->last_exit_tsc) {
		cs->stats.switches++;
		cs->stats.switch_ticks += now - cs->last_exit_tsc;
	}
	if (vm->spread)
		run_loop(v, now, slice_end, true, lone);
	else
		run_loop(v, now, slice_end, false, lone);
	cs->last_vcpu = v;
	/* Only a slice that ran out counts towards the cost of a switch. */
	cs->last_exit_tsc = vm->state == VM_RUNNING && !v->halted ? rdtsc() : 0;
	bool waiting = cs->last_exit_tsc && vcpu_start_runnable(&v->start);
	if (waiting)
		kvm_pv_vcpu_out(v, cs->last_exit_tsc);
	delayed_time_vcpu_out(v, cs->last_exit_tsc, waiting);
	/* Every exit moves the exit TSC. */
	return v->regs.exit_tsc != first_exit_tsc;
}

/* Nothing on this CPU can run: sleep until the earliest device event of
 * its VMs (or a slice from now, to look at the console again), or until
 * another CPU kicks it. */
static void idle(unsigned cpu)
{
	uint64_t wake = earlier(rdtsc() + slice_tsc, per_cpu[cpu].console_due);
	struct vcpu *v;

	console->idle();
	if (uplinks_present() && wake > rdtsc() + uplink_poll_tsc)
		wake = rdtsc() + uplink_poll_tsc;
	for (unsigned i = 0; (v = runqueue_at(cpu, i)); i++) {
		struct vm *vm = v->vm;
		if (vm->state == VM_RUNNING && vm->vtime.next_deadline_tsc < wake)
			wake = vm->vtime.next_deadline_tsc;
	}
	if (rdtsc() < wake) {
		lapic_timer_arm(wake);
		cpu_idle_until_interrupt();
		lapic_timer_arm(0);
	}
	if (rdtsc() >= per_cpu[cpu].console_due)
		poll_console(&per_cpu[cpu], rdtsc());
	/* Input that woke the CPU starts a typing session; sched_run's next
	 * console poll reads it. */
	input_arrived(&per_cpu[cpu], rdtsc());
	watchdog_check();
	uplinks_poll();
	for (unsigned i = 0; (v = runqueue_at(cpu, i)); i++) {
		struct vm *vm = v->vm;
		bool locked = vm_lock(vm);
		if (vm->state == VM_RUNNING && rdtsc() >= vm->vtime.next_deadline_tsc)
			vtime_update(&vm->vtime);
		vm_unlock(vm, locked);
	}
}

/* This CPU stops scheduling: all its VMs have stopped and it has let go
 * of their vCPUs (VMCSs written back and inactive), so that another CPU
 * may act on them (an operator command on a preserved VM). */
static void leave(unsigned cpu)
{
	__atomic_store_n(&per_cpu[cpu].active, false, __ATOMIC_RELEASE);
}

/* This CPU's VMs have ended: it goes on watching the vCPUs of the CPUs
 * still scheduling (vmm/core/watchdog.c), waking every slice, until none
 * is. */
static void watch_others(unsigned cpu)
{
	for (;;) {
		bool others = false;
		for (unsigned i = 0; i < MAX_CPUS; i++)
			others |= i != cpu && __atomic_load_n(&per_cpu[i].active, __ATOMIC_ACQUIRE);
		if (!others)
			return;
		watchdog_check();
		lapic_timer_arm(rdtsc() + slice_tsc);
		cpu_idle_until_interrupt();
		lapic_timer_arm(0);
	}
}

void sched_run(void)
{
	unsigned cpu = this_cpu()->index;
	struct vcpu *v;

	per_cpu[cpu].active = true;
	for (;;) {
		bool live = false, ran = false;
		for (unsigned i = 0; (v = runqueue_at(cpu, i)); i++) {
			struct vm *vm = v->vm;
			console->poll();
			console->run_commands();
			uplinks_poll();
			bool locked = vm_lock(vm);
			if (__atomic_exchange_n(&v->info_requested, false, __ATOMIC_ACQ_REL))
				console->vcpu_info(v);
			/* A vCPU in HLT with interrupts enabled stays there, as
			 * on hardware, however unlikely a wake-up looks (an IPI,
			 * an NMI, INIT, a timer armed from another vCPU, the
			 * operator's destroy): run_vcpu passes it over, and a
			 * CPU whose vCPUs all wait idles. */
			if (vm->state == VM_RUNNING)
				ran |= run_vcpu(v);
			if (vm->state != VM_RUNNING && vm->state != VM_PAUSED)
				vcpu_stopped(v);
			/* A stopped VM whose policy another CPU has yet to
			 * apply may restart. */
			live |= vm->state == VM_RUNNING || vm->state == VM_PAUSED || vm->vcpus_held;
			vm_unlock(vm, locked);
		}
		/* Done when none of this CPU's VMs can ever run again; paused
		 * ones wait for the operator's console. */
		if (!live) {
			leave(cpu);
			watch_others(cpu);
			return;
		}
		watchdog_check();
		if (!ran)
			idle(cpu);
	}
}
