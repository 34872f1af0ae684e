/* The table of instruction forms: each names its function in forms.S,
 * its class, the outputs that are architecturally defined (compared with
 * the bare machine), and why it is not run at a CPL where it would stop
 * the machine. */
#ifndef PGLAB_FORMS_H
#define PGLAB_FORMS_H

#include <stdbool.h>
#include <stdint.h>

#define OUT_EAX (1u << 0)
#define OUT_EBX (1u << 1)
#define OUT_ECX (1u << 2)
#define OUT_EDX (1u << 3)
#define OUT_ESI (1u << 4)
#define OUT_EDI (1u << 5)

enum form_class {
	CLASS_SENSITIVE_UNPRIVILEGED, /* Robin & Irvine's 17 */
	CLASS_PRIVILEGED,	      /* #GP (or #UD) at CPL 3 */
	CLASS_UNPRIVILEGED,	      /* any CPL; VMX may intercept them */
};

struct form {
	const char *name;
	enum form_class cls;
	void (*fn)(void);
	uint8_t outputs;       /* OUT_* */
	uint8_t memlen;	       /* bytes of form_mem it writes */
	const char *skip_cpl0; /* NULL: run it */
	bool umip;	       /* run with CR4.UMIP set, where that works */
};

/* forms.S: set and clear CR4.UMIP (they #GP where the CPU and the
 * hypervisor offer no UMIP). */
void form_set_umip(void);
void form_clear_umip(void);

extern const struct form forms[];
extern const unsigned nforms;

#endif
