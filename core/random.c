/*
 * core/random.c - random bytes for /dev/urandom and getrandom(2).
 *
 * The CPU's generator (RDRAND, through arch_random_u64) when it has one;
 * otherwise splitmix64 over a counter seeded from the TSC and stirred with
 * it on every call: unpredictable enough for hash seeds and temporary
 * names, not for keys.  Lock-free, any context.
 */
#include "core/kernel.h"
#include "core/arch.h"

static uint64_t counter;                        /* atomic */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t fallback_u64(void)
{
	uint64_t c = __atomic_add_fetch(&counter, 0x9e3779b97f4a7c15ULL, __ATOMIC_RELAXED);

	return splitmix64(c ^ splitmix64(arch_tsc()));
}

int random_bytes(void *buf, size_t n)
{
	char *p = buf;

	while (n) {
		uint64_t r;
		size_t len = MIN(n, sizeof(r));

		if (!arch_random_u64(&r))
			r = fallback_u64();
		memcpy(p, &r, len);
		p += len;
		n -= len;
	}
	return 0;
}
