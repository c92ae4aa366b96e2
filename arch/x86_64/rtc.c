/*
 * arch/x86_64/rtc.c - the wall clock at boot, from the CMOS real-time
 * clock (the MC146818 every PC and QEMU machine emulates).
 *
 * Read once: the date and time, in BCD or binary and 12- or 24-hour form
 * as status register B says, waiting out an update in progress.  The
 * system-call layer adds the monotonic clock to it for CLOCK_REALTIME.
 * A machine without the chip reads all ones: that, or any impossible
 * date, gives 0 (the epoch) rather than a wrong time.
 */
#include "core/kernel.h"
#include "core/arch.h"
#include "arch/x86_64/arch_defs.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71

static uint8_t cmos(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static unsigned int from_bcd(uint8_t v, bool bcd)
{
	return bcd ? (v >> 4) * 10 + (v & 15) : v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; civil-from-days). */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned int yoe = (unsigned int)(y - era * 400);
	unsigned int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Seconds, minutes, hours, day, month, year. */
static const uint8_t time_regs[6] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09 };

uint64_t arch_wall_clock_ns(void)
{
	uint8_t r[6], again[6];
	int tries = 0;

	do {                                    /* two equal reads, no update between */
		for (int spin = 0; (cmos(0x0a) & 0x80) && spin < 100000; spin++)
			;
		for (int i = 0; i < 6; i++)
			r[i] = cmos(time_regs[i]);
		for (int i = 0; i < 6; i++)
			again[i] = cmos(time_regs[i]);
	} while (memcmp(r, again, sizeof(r)) != 0 && ++tries < 5);

	uint8_t b = cmos(0x0b);
	bool bcd = !(b & 0x04), pm = r[2] & 0x80;
	unsigned int sec = from_bcd(r[0], bcd), min = from_bcd(r[1], bcd);
	unsigned int hour = from_bcd(r[2] & 0x7f, bcd), day = from_bcd(r[3], bcd);
	unsigned int mon = from_bcd(r[4], bcd), year = from_bcd(r[5], bcd) + 2000;

	if (!(b & 0x02) && pm)                  /* 12-hour mode */
		hour = (hour % 12) + 12;
	else if (!(b & 0x02) && hour == 12)
		hour = 0;
	if (sec > 59 || min > 59 || hour > 23 || day < 1 || day > 31 || mon < 1 || mon > 12)
		return 0;
	int64_t days = days_from_civil(year, mon, day);
	return (uint64_t)((days * 86400 + hour * 3600 + min * 60 + sec) * 1000000000LL);
}
