#include "arch/x86/cmos_clock.h"

#include <stdbool.h>

#include "arch/x86/cpu.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_NMI_OFF 0x80 /* keep NMIs as they were: bit 7 set = masked */
#define REG_SECONDS 0x00
#define REG_MINUTES 0x02
#define REG_HOURS 0x04
#define REG_DAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_CENTURY 0x32
#define A_UIP 0x80
#define B_24H 0x02
#define B_BINARY 0x04
#define HOUR_PM 0x80
#define UIP_SPIN_LIMIT 10000000

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, CMOS_NMI_OFF | reg);
	return inb(CMOS_DATA);
}

static unsigned bcd(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 0xf);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
	y -= m <= 2;
	unsigned era = y / 400, yoe = y - era * 400;
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (uint64_t)era * 146097 + doe - 719468;
}

uint64_t cmos_clock_read_epoch(void)
{
	/* Read outside an update cycle (register A's UIP bit). */
	for (int i = 0; i < UIP_SPIN_LIMIT && (cmos_read(REG_A) & A_UIP); i++)
		cpu_relax();
	uint8_t b = cmos_read(REG_B);
	bool bin = b & B_BINARY;
	unsigned sec = bcd(cmos_read(REG_SECONDS), bin);
	unsigned min = bcd(cmos_read(REG_MINUTES), bin);
	uint8_t hraw = cmos_read(REG_HOURS);
	unsigned hour = bcd(hraw & (uint8_t)~HOUR_PM, bin);
	unsigned day = bcd(cmos_read(REG_DAY), bin);
	unsigned mon = bcd(cmos_read(REG_MONTH), bin);
	unsigned year = bcd(cmos_read(REG_YEAR), bin);
	unsigned century = bcd(cmos_read(REG_CENTURY), bin);

	if (!(b & B_24H) && (hraw & HOUR_PM))
		hour = (hour % 12) + 12;
	else if (!(b & B_24H) && hour == 12)
		hour = 0;
	year += (century >= 19 && century <= 30) ? century * 100 : (year < 70 ? 2000 : 1900);
	if (sec > 59 || min > 59 || hour > 23 || !day || day > 31 || !mon || mon > 12)
		return 0;
	return days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
}
