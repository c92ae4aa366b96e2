/*
 * arch/x86_64/vdso/vdso.c - the vDSO an unmodified Linux binary finds at
 * AT_SYSINFO_EHDR: clock_gettime, gettimeofday, time and getcpu without
 * the SYSCALL instruction.
 *
 * Linux's vDSO reads the clock in user space to avoid entering the
 * kernel.  In Skiff there is no entering: the program already runs in
 * ring 0 in the kernel's address space, so each function here simply
 * jumps to the kernel's own system-call function.  Their addresses are in
 * skiff_vdso_entries, which the loader fills in its copy of this image
 * (loader/loader.c) before making it read-only and executable.
 *
 * Built as a tiny shared object (vdso.lds: one read-execute segment, no
 * relocations) with the symbols and version (LINUX_2.6) that musl and
 * glibc look up, and linked into the kernel image as data.
 */
struct skiff_vdso_entries {
	long (*clock_gettime)(long clock, long ts);
	long (*gettimeofday)(long tv, long tz);
	long (*time)(long t);
	long (*getcpu)(long cpu, long node, long cache);
};

__attribute__((visibility("hidden"), section(".data.entries")))
struct skiff_vdso_entries skiff_vdso_entries;

long __vdso_clock_gettime(long clock, long ts)
{
	return skiff_vdso_entries.clock_gettime(clock, ts);
}

long __vdso_gettimeofday(long tv, long tz)
{
	return skiff_vdso_entries.gettimeofday(tv, tz);
}

long __vdso_time(long t)
{
	return skiff_vdso_entries.time(t);
}

long __vdso_getcpu(long cpu, long node, long cache)
{
	return skiff_vdso_entries.getcpu(cpu, node, cache);
}

long clock_gettime(long, long) __attribute__((weak, alias("__vdso_clock_gettime")));
long gettimeofday(long, long) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long) __attribute__((weak, alias("__vdso_time")));
long getcpu(long, long, long) __attribute__((weak, alias("__vdso_getcpu")));
