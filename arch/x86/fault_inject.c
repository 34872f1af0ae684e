/* Fault injection (test build only; see fault_inject.h): the faults named
 * on the command line, and the counters the hooks need. Nothing here is
 * compiled into a normal build. */
#ifdef FAULT_INJECT

#include "arch/x86/fault_inject.h"

#include <stdint.h>
#include <string.h>

#include "drivers/console.h"

struct fault {
	enum fault_kind kind;
	unsigned n;    /* alloc: which allocation; apdead: CPU; devtimeout: first command */
	unsigned seen; /* devtimeout: commands so far */
	char name[FAULT_NAME_MAX + 1]; /* VM or device; "" for alloc: the first VM */
	bool sweep;		       /* alloc:sweep:PREFIX */
	bool spent;
};

static const char *const kind_names[] = {
	[FAULT_ALLOC] = "alloc",   [FAULT_ENTRY] = "entry",	      [FAULT_NOEXIT] = "noexit",
	[FAULT_APDEAD] = "apdead", [FAULT_DEVTIMEOUT] = "devtimeout",
};

static struct fault faults[FAULT_MAX];
static unsigned nfaults;

/* The VM creation being counted: only the boot CPU creates VMs before the
 * others run, and the console's create runs one command at a time. */
static struct fault *alloc_fault; /* this creation's alloc fault, if any */
static unsigned alloc_target;	  /* the allocation that fails; 0: none */
static const char *alloc_vm;	  /* NULL: not counting */
static unsigned alloc_calls;
static bool alloc_failed;
static bool first_vm_seen;

static int parse_number(const char *s, size_t n, unsigned *out)
{
	uint64_t v = 0;

	if (!n || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = (unsigned)v;
	return 0;
}

/* The first ':' of s[0..n), or NULL. */
static const char *find_colon(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == ':')
			return s + i;
	return NULL;
}

static int parse_name(const char *s, size_t n, char *out)
{
	if (!n || n > FAULT_NAME_MAX)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* One KIND:ARG[:ARG] item of len bytes into f. */
static int parse_item(const char *item, size_t len, struct fault *f, char *why, size_t wlen)
{
	const char *colon = find_colon(item, len);
	size_t klen = colon ? (size_t)(colon - item) : len;
	unsigned k;

	for (k = 0; k < sizeof(kind_names) / sizeof(kind_names[0]); k++)
		if (strlen(kind_names[k]) == klen && !strncmp(item, kind_names[k], klen))
			break;
	if (k == sizeof(kind_names) / sizeof(kind_names[0]) || !colon) {
		snprintf(why, wlen,
			 "'%.*s' is not KIND:ARG with KIND alloc, entry, noexit, apdead or "
			 "devtimeout",
			 (int)len, item);
		return -1;
	}
	const char *arg = colon + 1;
	size_t alen = len - klen - 1;
	*f = (struct fault){ .kind = (enum fault_kind)k };
	switch (f->kind) {
	case FAULT_ALLOC: {
		const char *c2 = find_colon(arg, alen);
		size_t nlen = c2 ? (size_t)(c2 - arg) : alen;
		if (c2 && nlen == 5 && !strncmp(arg, "sweep", 5)) {
			f->sweep = true;
			if (!parse_name(c2 + 1, alen - nlen - 1, f->name))
				return 0;
		}
		if (f->sweep || parse_number(arg, nlen, &f->n) || !f->n ||
		    (c2 && parse_name(c2 + 1, alen - nlen - 1, f->name))) {
			snprintf(why, wlen,
				 "'%.*s': alloc takes N (1 or more) and an optional VM, or sweep "
				 "and "
				 "a name prefix",
				 (int)len, item);
			return -1;
		}
		return 0;
	}
	case FAULT_APDEAD:
		if (parse_number(arg, alen, &f->n) || !f->n) {
			snprintf(why, wlen, "'%.*s': apdead takes a CPU index (1 or more)",
				 (int)len, item);
			return -1;
		}
		return 0;
	case FAULT_DEVTIMEOUT: {
		const char *c2 = find_colon(arg, alen);
		size_t nlen = c2 ? (size_t)(c2 - arg) : alen;
		f->n = 1;
		if (parse_name(arg, nlen, f->name) ||
		    (c2 && (parse_number(c2 + 1, alen - nlen - 1, &f->n) || !f->n))) {
			snprintf(why, wlen,
				 "'%.*s': devtimeout takes a disk and an optional first command "
				 "(1 or more)",
				 (int)len, item);
			return -1;
		}
		return 0;
	}
	default:
		if (parse_name(arg, alen, f->name)) {
			snprintf(why, wlen, "'%.*s': %s takes a name of 1 to %d characters",
				 (int)len, item, kind_names[k], FAULT_NAME_MAX);
			return -1;
		}
		return 0;
	}
}

int fault_inject_start(const char *spec, char *why, size_t len)
{
	struct fault parsed[FAULT_MAX];
	unsigned n = 0;

	for (const char *p = spec;;) {
		const char *end = strchr(p, ',');
		size_t ilen = end ? (size_t)(end - p) : strlen(p);
		if (n == FAULT_MAX) {
			snprintf(why, len, "more than %d faults", FAULT_MAX);
			return -1;
		}
		if (parse_item(p, ilen, &parsed[n++], why, len))
			return -1;
		if (!end)
			break;
		p = end + 1;
	}
	memcpy(faults, parsed, n * sizeof(parsed[0]));
	nfaults = n;
	first_vm_seen = false;
	alloc_vm = NULL;
	return 0;
}

/* alloc:sweep:PREFIX: the allocation a VM named PREFIX<k> fails, k. */
static unsigned sweep_target(const struct fault *f, const char *name)
{
	size_t plen = strlen(f->name);
	unsigned k;

	if (strncmp(name, f->name, plen) || parse_number(name + plen, strlen(name + plen), &k))
		return 0;
	return k;
}

void fault_alloc_begin(const char *name)
{
	alloc_fault = NULL;
	alloc_target = 0;
	for (unsigned i = 0; i < nfaults && !alloc_target; i++) {
		struct fault *f = &faults[i];
		if (f->kind != FAULT_ALLOC || f->spent)
			continue;
		if (f->sweep)
			alloc_target = sweep_target(f, name);
		else if (f->name[0] ? !strcmp(f->name, name) : !first_vm_seen)
			alloc_target = f->n;
		if (alloc_target)
			alloc_fault = f;
	}
	first_vm_seen = true;
	alloc_calls = 0;
	alloc_failed = false;
	__atomic_store_n(&alloc_vm, name, __ATOMIC_RELEASE);
}

void fault_alloc_end(void)
{
	const char *name = alloc_vm;

	__atomic_store_n(&alloc_vm, NULL, __ATOMIC_RELEASE);
	if (!name)
		return;
	if (alloc_failed)
		kprintf("pgvisor: fault: vm %s: page allocation %u of its creation failed "
			"(injected)\n",
			name, alloc_target);
	else
		kprintf("pgvisor: fault: vm %s: its creation made %u page allocations\n", name,
			alloc_calls);
	alloc_fault = NULL;
	alloc_target = 0;
}

bool fault_alloc_fails(void)
{
	if (!__atomic_load_n(&alloc_vm, __ATOMIC_ACQUIRE))
		return false;
	alloc_calls++;
	if (alloc_calls != alloc_target)
		return false;
	alloc_fault->spent = !alloc_fault->sweep;
	alloc_failed = true;
	return true;
}

bool fault_take(enum fault_kind kind, const char *name)
{
	for (unsigned i = 0; i < nfaults; i++) {
		struct fault *f = &faults[i];
		if (f->kind == kind && !f->spent && !strcmp(f->name, name)) {
			f->spent = true;
			return true;
		}
	}
	return false;
}

bool fault_ap_dead(unsigned index)
{
	for (unsigned i = 0; i < nfaults; i++)
		if (faults[i].kind == FAULT_APDEAD && faults[i].n == index)
			return true;
	return false;
}

bool fault_device_times_out(const char *dev)
{
	for (unsigned i = 0; i < nfaults; i++) {
		struct fault *f = &faults[i];
		if (f->kind == FAULT_DEVTIMEOUT && !strcmp(f->name, dev))
			return __atomic_add_fetch(&f->seen, 1, __ATOMIC_RELAXED) >= f->n;
	}
	return false;
}

#endif
