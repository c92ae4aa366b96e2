/*
 * tests/kernel/test_libc.c - the system-call layer seen from the kernel:
 * the generic entry and its table, and libc in kernel threads.
 */
#include "core/ktest.h"
#include "libc/syscall.h"
#include "sched/sched.h"

/* musl's, as an application calls them. */
int *__errno_location(void);
long strtol(const char *s, char **end, int base);
int snprintf(char *buf, size_t n, const char *fmt, ...);

KTEST(libc_dispatch_matches_direct_calls)
{
	long sys_getpid(void);

	KCHECK_EQ(t, syscall_dispatch(39 /* getpid */, 0, 0, 0, 0, 0, 0), sys_getpid());
	KCHECK_EQ(t, syscall_dispatch(57 /* fork */, 0, 0, 0, 0, 0, 0), -ENOSYS);
	KCHECK_EQ(t, syscall_dispatch(-1, 0, 0, 0, 0, 0, 0), -ENOSYS);
	KCHECK_EQ(t, syscall_dispatch(100000, 0, 0, 0, 0, 0, 0), -ENOSYS);
	KCHECK(t, strcmp(syscall_name(0), "read") == 0);
	KCHECK(t, syscall_name(-5) == NULL);
}

KTEST(libc_bad_pointers_give_efault)
{
	long sys_clock_gettime(long, long), sys_uname(long), sys_getrandom(long, long, long);

	KCHECK_EQ(t, sys_clock_gettime(1, 8), -EFAULT);
	KCHECK_EQ(t, sys_uname(1), -EFAULT);
	KCHECK_EQ(t, sys_getrandom(16, 8, 0), -EFAULT);
	KCHECK_EQ(t, sys_clock_gettime(12345, 0), -EINVAL);
}

static char kthread_result[64];
static int kthread_errno;

static void use_libc(void *arg)
{
	(void)arg;
	*__errno_location() = 0;
	strtol("99999999999999999999999", NULL, 10);
	kthread_errno = *__errno_location();
	snprintf(kthread_result, sizeof(kthread_result), "%d %.2f %s", 42, 2.5, "ok");
}

KTEST(libc_kernel_threads_have_tls)
{
	struct thread *th = thread_create(use_libc, NULL, &THREAD_ATTR(.name = "libc-user"));

	KCHECK(t, !IS_ERR(th));
	if (IS_ERR(th))
		return;
	thread_join(th);
	KCHECK_EQ(t, kthread_errno, ERANGE);
	KCHECK(t, strcmp(kthread_result, "42 2.50 ok") == 0);
}
