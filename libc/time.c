/*
 * libc/time.c - clocks and sleeping.
 *
 * CLOCK_MONOTONIC (and BOOTTIME, the _RAW and _COARSE variants) is the
 * kernel's clock, nanoseconds since boot from the TSC: the same on every
 * CPU.  CLOCK_REALTIME adds the wall-clock time read from the RTC at boot;
 * clock_settime moves that offset.  The CPU-time clocks report the
 * calling thread's run time (process = the calling thread, an
 * approximation documented here).  Reading a clock is a function call
 * (the direct-call syscall), which is what a vDSO buys Linux.
 */
#include "libc/libc_impl.h"

#define NS 1000000000ULL

static uint64_t realtime_offset;                /* atomic */
static bool realtime_read;                      /* atomic */
static struct mutex realtime_lock = MUTEX_INIT; /* reading the RTC, and settime */

uint64_t libc_realtime_offset(void)
{
	if (!__atomic_load_n(&realtime_read, __ATOMIC_ACQUIRE)) {
		WITH_LOCK(&realtime_lock) {     /* once: a settime meanwhile is not undone */
			if (!realtime_read) {
				uint64_t wall = arch_wall_clock_ns(), now = arch_clock_ns();
				__atomic_store_n(&realtime_offset, wall > now ? wall - now : 0,
						 __ATOMIC_RELAXED);
				__atomic_store_n(&realtime_read, true, __ATOMIC_RELEASE);
			}
		}
	}
	return __atomic_load_n(&realtime_offset, __ATOMIC_RELAXED);
}

/* A clock's time in ns, or -EINVAL. */
static long long clock_now(int clock)
{
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_TAI:
		return (long long)(arch_clock_ns() + libc_realtime_offset());
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		return (long long)arch_clock_ns();
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		return (long long)thread_run_ns(thread_self());
	default:
		return -EINVAL;
	}
}

struct __kernel_timespec libc_ns_timespec(uint64_t ns)
{
	return (struct __kernel_timespec){ (long long)(ns / NS), (long long)(ns % NS) };
}

long long libc_timespec_ns(const struct __kernel_timespec *ts)
{
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= (long long)NS)
		return -EINVAL;
	if ((unsigned long long)ts->tv_sec > UINT64_MAX / NS / 2)
		return (long long)(UINT64_MAX / 2);     /* far enough: forever */
	return ts->tv_sec * (long long)NS + ts->tv_nsec;
}

long long libc_timespec_from_user(const struct __kernel_timespec *u)
{
	struct __kernel_timespec ts;

	if (copy_from_user(&ts, u, sizeof(ts)))
		return -EFAULT;
	return libc_timespec_ns(&ts);
}

static int put_timespec(struct __kernel_timespec *u, uint64_t ns)
{
	struct __kernel_timespec ts = libc_ns_timespec(ns);

	return copy_to_user(u, &ts, sizeof(ts));
}

static long clock_get(int clock, struct __kernel_timespec *tp)
{
	long long now = clock_now(clock);

	return now < 0 ? now : put_timespec(tp, (uint64_t)now);
}

SYSCALL_DEFINE2(clock_gettime, int, clock, struct __kernel_timespec *, tp)
{
	return clock_get(clock, tp);
}

VDSO_CALL(clock_gettime)(long clock, long tp)
{
	if (likely(clock == CLOCK_MONOTONIC))   /* the one timing loops call */
		return put_timespec((struct __kernel_timespec *)tp, arch_clock_ns());
	if (clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID)
		return sys_clock_gettime(clock, tp);    /* per-thread figures: the full entry */
	return clock_get((int)clock, (struct __kernel_timespec *)tp);
}

SYSCALL_DEFINE2(clock_getres, int, clock, struct __kernel_timespec *, tp)
{
	if (clock_now(clock) < 0)
		return -EINVAL;
	return tp ? put_timespec(tp, 1) : 0;
}

SYSCALL_DEFINE2(clock_settime, int, clock, const struct __kernel_timespec *, tp)
{
	long long ns;

	if (clock != CLOCK_REALTIME)
		return clock_now(clock) < 0 ? -EINVAL : -EPERM;
	ns = libc_timespec_from_user(tp);
	if (ns < 0)
		return ns;
	libc_realtime_offset();                 /* read the RTC first, once */
	WITH_LOCK(&realtime_lock) {
		uint64_t now = arch_clock_ns();
		__atomic_store_n(&realtime_offset, (uint64_t)ns > now ? (uint64_t)ns - now : 0,
				 __ATOMIC_RELAXED);
	}
	return 0;
}

struct timeval_abi {
	long long tv_sec, tv_usec;
};

VDSO_CALL(gettimeofday)(long tv, long tz)
{
	uint64_t ns = arch_clock_ns() + libc_realtime_offset();
	struct timeval_abi t = { (long long)(ns / NS), (long long)(ns % NS / 1000) };

	(void)tz;                               /* obsolete: left untouched */
	return tv ? copy_to_user((void *)tv, &t, sizeof(t)) : 0;
}

SYSCALL_DEFINE2(gettimeofday, struct timeval_abi *, tv, void *, tz)
{
	return vdso_gettimeofday((long)tv, (long)tz);
}

VDSO_CALL(time)(long tloc)
{
	long long s = (long long)((arch_clock_ns() + libc_realtime_offset()) / NS);

	if (tloc && copy_to_user((void *)tloc, &s, sizeof(s)))
		return -EFAULT;
	return s;
}

SYSCALL_DEFINE1(time, long long *, tloc)
{
	return vdso_time((long)tloc);
}

/* Sleeps until the monotonic deadline: 0, or -EINTR when a signal comes
 * first (with the time left in *rem, if given). */
static long sleep_until(uint64_t deadline, struct __kernel_timespec *rem)
{
	uint64_t now;

	while ((now = arch_clock_ns()) < deadline) {
		if (thread_signal_pending()) {
			if (rem && put_timespec(rem, deadline - now))
				return -EFAULT;
			return -EINTR;
		}
		sched_prepare_wait();
		if (thread_signal_pending()) {
			sched_cancel_wait();
			continue;
		}
		sched_wait_until(deadline);
	}
	return 0;
}

SYSCALL_DEFINE2(nanosleep, const struct __kernel_timespec *, req, struct __kernel_timespec *, rem)
{
	long long ns = libc_timespec_from_user(req);

	if (ns < 0)
		return ns;
	return sleep_until(arch_clock_ns() + (uint64_t)ns, rem);
}

SYSCALL_DEFINE4(clock_nanosleep, int, clock, int, flags, const struct __kernel_timespec *, req,
		struct __kernel_timespec *, rem)
{
	long long ns = libc_timespec_from_user(req), now = clock_now(clock);

	if (now < 0 || clock == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	if (ns < 0)
		return ns;
	if (!(flags & 1 /* TIMER_ABSTIME */))
		return sleep_until(arch_clock_ns() + (uint64_t)ns, rem);
	if (ns <= now)
		return 0;
	return sleep_until(arch_clock_ns() + (uint64_t)(ns - now), NULL);
}
