/*
 * libc/syscall.c - the generic system-call entry and application-memory
 * helpers.
 *
 * A constant syscall number in musl compiles to a direct call of sys_NAME;
 * everything else (syscall(2), musl's cancellation points, the SYSCALL
 * instruction of unmodified binaries) comes here and indexes the table
 * that scripts/syscalls generates from the SYSCALL_DEFINE lines.  A number
 * with no implementation returns -ENOSYS and is named on the console the
 * first time, so a missing call shows up in the log instead of as a
 * mystery.  fork, vfork and execve have no implementation by design: one
 * application per VM.
 */
#include "libc/syscall_impl.h"

static uint64_t reported[SYSCALL_TABLE_SIZE / 64];     /* atomic bits */

static long unimplemented(long nr)
{
	static bool reported_bad;               /* numbers no kernel has: once */

	if (nr < 0 || nr >= SYSCALL_TABLE_SIZE) {
		if (!__atomic_exchange_n(&reported_bad, true, __ATOMIC_RELAXED))
			printk("skiff: system call %ld does not exist: ENOSYS\n", nr);
		return -ENOSYS;
	}
	uint64_t bit = 1ULL << (nr % 64);
	if (!(__atomic_fetch_or(&reported[nr / 64], bit, __ATOMIC_RELAXED) & bit)) {
		const char *name = syscall_names[nr];
		printk("skiff: system call %s (%ld) is not implemented: ENOSYS\n",
		       name ? name : "?", nr);
	}
	return -ENOSYS;
}

long syscall_dispatch(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	if (nr < 0 || nr >= SYSCALL_TABLE_SIZE || !syscall_table[nr])
		return unimplemented(nr);
	return syscall_table[nr](a1, a2, a3, a4, a5, a6);
}

const char *syscall_name(long nr)
{
	return nr >= 0 && nr < SYSCALL_TABLE_SIZE ? syscall_names[nr] : NULL;
}

long copy_path_from_user(char *dst, const char *usrc, size_t max)
{
	size_t len = 0;

	if (max == 0)
		return -ENAMETOOLONG;
	while (len < max) {
		/* Up to the end of the source's page: a string may end just
		 * before an unmapped page, and must not fault there. */
		size_t chunk = 4096 - ((uintptr_t)(usrc + len) & 4095);

		chunk = MIN(chunk, max - len);
		if (copy_from_user(dst + len, usrc + len, chunk))
			return -EFAULT;
		for (size_t i = 0; i < chunk; i++) {
			if (dst[len + i] == 0)
				return (long)(len + i);
		}
		len += chunk;
	}
	dst[max - 1] = 0;
	return -ENAMETOOLONG;
}
