/*
 * arch/x86_64/cpuinfo.c - what /proc/cpuinfo, the random device and the
 * application's auxiliary vector ask of the CPU: its vendor and model name,
 * RDRAND, and the feature bits of AT_HWCAP.
 */
#include "arch/x86_64/x86_impl.h"

static bool has_rdrand(void)
{
	static int known = -1;                  /* -1: not asked yet */

	if (known < 0)
		known = (x86_cpu.max_leaf >= 1 && (cpuid(1, 0).ecx & (1u << 30))) ? 1 : 0;
	return known;
}

bool arch_random_u64(uint64_t *v)
{
	if (!has_rdrand())
		return false;
	for (int tries = 0; tries < 10; tries++) {
		bool ok;

		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
		if (ok)
			return true;
	}
	return false;
}

uint64_t arch_hwcap(void)
{
	return cpuid(1, 0).edx;                 /* Linux's AT_HWCAP on x86 */
}

void arch_cpu_names(char vendor[13], char model[49])
{
	memcpy(vendor, x86_cpu.vendor, 13);
	model[0] = 0;
	if (x86_cpu.max_ext_leaf < 0x80000004)
		return;
	for (uint32_t i = 0; i < 3; i++) {
		struct cpuid_regs r = cpuid(0x80000002 + i, 0);
		memcpy(model + 16 * i, &r, 16);
	}
	model[48] = 0;
}
