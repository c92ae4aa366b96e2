/*
 * libc/system.c - identity, limits and system information.
 *
 * One application per VM, running as root: every uid and gid is 0, the
 * pid is the main thread's tid, the parent is 0 (nobody), and changing
 * identity to root succeeds while anything else is refused (EPERM).
 * uname names the system "Skiff" with a Linux-compatible release, so
 * programs that parse the release (glibc-style version checks) work.
 */
#include "libc/libc_impl.h"
#include "core/mm.h"
#include "fs/fs.h"

SYSCALL_DEFINE0(getpid) { return libc_pid(); }
SYSCALL_DEFINE0(getppid) { return 0; }
SYSCALL_DEFINE0(getuid) { return 0; }
SYSCALL_DEFINE0(geteuid) { return 0; }
SYSCALL_DEFINE0(getgid) { return 0; }
SYSCALL_DEFINE0(getegid) { return 0; }
SYSCALL_DEFINE1(getpgid, int, p) { return p == 0 || p == libc_pid() ? libc_pid() : -ESRCH; }
SYSCALL_DEFINE0(getpgrp) { return libc_pid(); }
SYSCALL_DEFINE1(getsid, int, p) { return p == 0 || p == libc_pid() ? libc_pid() : -ESRCH; }
SYSCALL_DEFINE0(setsid) { return -EPERM; }   /* already the session leader */

static long root_only(long id)
{
	return id == 0 || id == -1 ? 0 : -EPERM;
}

SYSCALL_DEFINE1(setuid, long, u) { return root_only(u); }
SYSCALL_DEFINE1(setgid, long, g) { return root_only(g); }
SYSCALL_DEFINE2(setreuid, long, r, long, e) { return root_only(r) ?: root_only(e); }
SYSCALL_DEFINE2(setregid, long, r, long, e) { return root_only(r) ?: root_only(e); }
SYSCALL_DEFINE3(setresuid, long, r, long, e, long, s) { return root_only(r) ?: root_only(e) ?: root_only(s); }
SYSCALL_DEFINE3(setresgid, long, r, long, e, long, s) { return root_only(r) ?: root_only(e) ?: root_only(s); }
SYSCALL_DEFINE2(setgroups, size_t, n, const void *, list) { (void)list; return n == 0 ? 0 : -EPERM; }

static long three_zeros(unsigned int *a, unsigned int *b, unsigned int *c)
{
	unsigned int zero = 0;

	if (copy_to_user(a, &zero, 4) || copy_to_user(b, &zero, 4) || copy_to_user(c, &zero, 4))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE3(getresuid, unsigned int *, r, unsigned int *, e, unsigned int *, s)
{
	return three_zeros(r, e, s);
}

SYSCALL_DEFINE3(getresgid, unsigned int *, r, unsigned int *, e, unsigned int *, s)
{
	return three_zeros(r, e, s);
}

SYSCALL_DEFINE2(getgroups, int, n, unsigned int *, list)
{
	(void)list;
	return n < 0 ? -EINVAL : 0;
}

SYSCALL_DEFINE1(uname, struct new_utsname *, u)
{
	struct new_utsname n = { 0 };

	strlcpy(n.sysname, "Linux", sizeof(n.sysname));   /* the ABI it offers */
	strlcpy(n.nodename, "skiff", sizeof(n.nodename));
	strlcpy(n.release, "6.1.0-skiff", sizeof(n.release));
	strlcpy(n.version, "#1 SMP Skiff unikernel", sizeof(n.version));
	strlcpy(n.machine, "x86_64", sizeof(n.machine));
	strlcpy(n.domainname, "(none)", sizeof(n.domainname));
	return copy_to_user(u, &n, sizeof(n));
}

SYSCALL_DEFINE1(sysinfo, struct sysinfo *, info)
{
	struct sysinfo si = { 0 };
	struct mm_stats ms;

	mm_stats(&ms);
	si.uptime = (long)(arch_clock_ns() / 1000000000);
	si.totalram = ms.total_bytes;
	si.freeram = ms.free_bytes;
	si.procs = 1;
	si.mem_unit = 1;
	return copy_to_user(info, &si, sizeof(si));
}

/* --- resource limits --- */

struct rlimit64_abi {
	uint64_t cur, max;
};

#define RLIM_INF (~0ULL)

static int get_limit(unsigned int res, struct rlimit64_abi *r)
{
	switch (res) {
	case RLIMIT_NOFILE:
		*r = (struct rlimit64_abi){ (uint64_t)fd_limit(), FD_MAX };
		return 0;
	case RLIMIT_STACK:                      /* the main thread's stack */
		*r = (struct rlimit64_abi){ 1 << 20, 1 << 20 };
		return 0;
	case RLIMIT_NPROC:
	case RLIMIT_CPU: case RLIMIT_FSIZE: case RLIMIT_DATA: case RLIMIT_CORE:
	case RLIMIT_RSS: case RLIMIT_MEMLOCK: case RLIMIT_AS: case RLIMIT_LOCKS:
	case RLIMIT_SIGPENDING: case RLIMIT_MSGQUEUE: case RLIMIT_NICE:
	case RLIMIT_RTPRIO: case RLIMIT_RTTIME:
		*r = (struct rlimit64_abi){ RLIM_INF, RLIM_INF };
		return 0;
	default:
		return -EINVAL;
	}
}

static int set_limit(unsigned int res, const struct rlimit64_abi *r)
{
	struct rlimit64_abi now;
	int err = get_limit(res, &now);

	if (err)
		return err;
	if (r->cur > r->max)
		return -EINVAL;
	if (res == RLIMIT_NOFILE)
		return r->max > FD_MAX ? -EPERM : fd_set_limit((int)MIN(r->cur, (uint64_t)FD_MAX));
	/* Others have no effect here; raising one above what we have is refused. */
	return r->max > now.max ? -EPERM : 0;
}

SYSCALL_DEFINE4(prlimit64, int, p, unsigned int, res, const struct rlimit64_abi *, new_lim,
		struct rlimit64_abi *, old_lim)
{
	struct rlimit64_abi old, set;
	int err;

	if (p != 0 && p != libc_pid())
		return -ESRCH;
	err = get_limit(res, &old);
	if (err)
		return err;
	if (new_lim) {
		if (copy_from_user(&set, new_lim, sizeof(set)))
			return -EFAULT;
		err = set_limit(res, &set);
		if (err)
			return err;
	}
	return old_lim ? copy_to_user(old_lim, &old, sizeof(old)) : 0;
}

SYSCALL_DEFINE2(getrlimit, unsigned int, res, struct rlimit64_abi *, r)
{
	return sys_prlimit64(0, res, 0, (long)r);
}

SYSCALL_DEFINE2(setrlimit, unsigned int, res, const struct rlimit64_abi *, r)
{
	return sys_prlimit64(0, res, (long)r, 0);
}

/* --- random numbers --- */

SYSCALL_DEFINE3(getrandom, void *, buf, size_t, len, unsigned int, flags)
{
	unsigned char tmp[256];
	size_t done = 0;

	if (flags & ~7u)                        /* NONBLOCK, RANDOM, INSECURE */
		return -EINVAL;
	while (done < len) {
		size_t k = MIN(len - done, sizeof(tmp));
		random_bytes(tmp, k);
		if (copy_to_user((char *)buf + done, tmp, k))
			return done ? (long)done : -EFAULT;
		done += k;
	}
	return (long)MIN(done, (size_t)0x7fffffff);
}

/* --- the rest of the process's little state --- */

SYSCALL_DEFINE5(prctl, int, option, unsigned long, a2, unsigned long, a3, unsigned long, a4,
		unsigned long, a5)
{
	(void)a3, (void)a4, (void)a5;
	switch (option) {
	case 15: /* PR_SET_NAME */
	case 16: /* PR_GET_NAME */
		return a2 ? 0 : -EFAULT;        /* names live in musl; accepted */
	default:
		return -EINVAL;
	}
}

SYSCALL_DEFINE1(brk, unsigned long, addr)
{
	(void)addr;
	/* No heap segment: musl's allocator is not used, and anything that
	 * asks gets the failure that sends it to mmap. */
	return 0;
}
