/* The hypervisor's GDT layout, shared by assembly and C. */
#ifndef PGVISOR_SEGMENTS_H
#define PGVISOR_SEGMENTS_H

#define SEL_KERNEL_CS 0x08
#define SEL_KERNEL_DS 0x10
#define SEL_TSS 0x18 /* 16-byte system descriptor: slots 3 and 4 */
#define GDT_ENTRIES 5

/* Long-mode code (L=1, P, DPL0, execute/read) and flat data descriptors. */
#define GDT_CODE64_DESC 0x00af9b000000ffff
#define GDT_DATA_DESC 0x00cf93000000ffff

#endif
