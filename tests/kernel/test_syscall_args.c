/*
 * tests/kernel/test_syscall_args.c - every system call with bad arguments:
 * pointers into nothing (1, non-canonical, unmapped), absurd numbers (-1,
 * huge).  None may crash the kernel, hang, or leave it inconsistent.
 *
 * Left out: the calls that end or stop the caller by design (exit,
 * exit_group, pause, kill, tkill, tgkill) and those that would take the
 * runner's own descriptors away (close, dup2, dup3); umask and the working
 * directory are put back afterwards.
 */
#include "core/ktest.h"
#include "core/mm.h"
#include "fs/fs.h"
#include "libc/syscall_impl.h"

static const char *const skipped[] = {
	"exit", "exit_group", "pause", "kill", "tkill", "tgkill", "close", "dup2", "dup3",
};

static bool skip(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(skipped); i++) {
		if (strcmp(name, skipped[i]) == 0)
			return true;
	}
	return false;
}

KTEST(libc_every_syscall_survives_bad_arguments)
{
	static const long patterns[] = {
		1, -1, 0x7fff1234, (long)0x8000000000000000UL, 0x0000100000001000L,
	};
	bool open_before[64];
	long calls = 0;
	long sys_umask(long), sys_chdir(long);

	for (int fd = 0; fd < 64; fd++) {
		struct file *f = fd_get(fd);
		open_before[fd] = f != NULL;
		if (f)
			file_put(f);
	}
	for (long nr = 0; nr < SYSCALL_TABLE_SIZE; nr++) {
		if (!syscall_table[nr] || skip(syscall_names[nr]))
			continue;
		for (size_t p = 0; p < ARRAY_SIZE(patterns); p++) {
			long a = patterns[p];
			long r = syscall_dispatch(nr, a, a, a, a, a, a);
			KCHECK(t, r >= -MAX_ERRNO);      /* a value or an errno, nothing else */
			calls++;
		}
	}
	sys_umask(022);
	sys_chdir((long)"/");
	for (int fd = 3; fd < 64; fd++) {
		if (!open_before[fd])
			fd_close(fd);                    /* what the calls opened (eventfd, dup...) */
	}
	KCHECK(t, calls > 500);
	KCHECK_EQ(t, mm_check(), 0);
}
