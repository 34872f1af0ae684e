#include "vmm/core/runqueue.h"

#include "arch/x86/page_alloc.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/spinlock.h"
#include "drivers/console.h"
#include "vmm/core/placement.h"

#define RUNQUEUE_MAX (MAX_VMS * VM_MAX_VCPUS)
#define RUNQUEUE_PAGES ((RUNQUEUE_MAX * sizeof(struct vcpu *) + PAGE_SIZE - 1) / PAGE_SIZE)

struct runqueue {
	struct spinlock lock;
	unsigned n;
	struct vcpu **v; /* RUNQUEUE_MAX entries; NULL for a CPU not online */
};

static struct runqueue queues[MAX_CPUS];

void runqueue_init(void)
{
	for (unsigned i = 0; i < ncpus; i++) {
		if (!cpu_is_online(i))
			continue;
		queues[i].v = page_alloc(RUNQUEUE_PAGES);
		if (!queues[i].v)
			panic("out of memory for the run queue of CPU %u", i);
	}
}

uint32_t runqueue_online_cpus(void)
{
	uint32_t m = 0;

	for (unsigned i = 0; i < ncpus; i++)
		if (cpu_is_online(i))
			m |= 1u << i;
	return m;
}

unsigned runqueue_place(struct vcpu *v, uint32_t usable)
{
	unsigned load[MAX_CPUS];
	uint32_t allowed = v->vm->cfg.cpus;

	for (unsigned i = 0; i < MAX_CPUS; i++)
		load[i] = queues[i].n;
	int cpu = placement_pick(allowed, usable, load, ncpus);
	if (cpu < 0) {
		cpu = placement_pick(0, usable, load, ncpus);
		kprintf("pgvisor: vm %s: vCPU %u: no CPU of its cpus set is %s; placed on CPU "
			"%d\n",
			v->vm->name, v->id,
			usable == runqueue_online_cpus() ? "online" : "running VMs now", cpu);
	}
	runqueue_add(v, (unsigned)cpu);
	return (unsigned)cpu;
}

void runqueue_add(struct vcpu *v, unsigned cpu)
{
	struct runqueue *q = &queues[cpu];

	spin_lock(&q->lock);
	if (q->v && q->n < RUNQUEUE_MAX)
		q->v[q->n++] = v;
	spin_unlock(&q->lock);
	v->cpu = cpu;
}

struct vcpu *runqueue_at(unsigned cpu, unsigned i)
{
	struct runqueue *q = &queues[cpu];
	struct vcpu *v;

	spin_lock(&q->lock);
	v = i < q->n ? q->v[i] : NULL;
	spin_unlock(&q->lock);
	return v;
}

unsigned runqueue_length(unsigned cpu)
{
	return cpu < MAX_CPUS ? queues[cpu].n : 0;
}
