/*
 * libc/sys_poll.c - the system calls of pipes, eventfds and readiness:
 * pipe, pipe2, eventfd, eventfd2, poll, ppoll, select, pselect6,
 * epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait and
 * epoll_pwait2.
 *
 * The objects live in fs/ (pipe.c, eventfd.c, epoll.c); this file checks
 * the arguments, copies them in and out, and manages descriptors.
 *
 * poll and select share one mechanism, a poll set: the files of the
 * descriptors asked about, each with a waiter on its poll head for one
 * poll sleeper (fs/poll.c).  The set is checked, and if nothing is ready
 * the thread sleeps until a waiter fires or the timeout passes, then
 * checks again; after the timeout it checks once more, as Linux does.
 * Timeouts become deadlines on arch_clock_ns(): 0 is forever, a deadline
 * already past checks once without sleeping.  Like Linux, ppoll, pselect6
 * and select write the time left back to the caller's timeout (a fault on
 * that write is ignored).
 *
 * A signal ends every wait with -EINTR.  ppoll, pselect6, epoll_pwait and
 * epoll_pwait2 install their signal mask for the wait (libc/signal.c).
 */
#include "fs/fs.h"
#include "libc/abi.h"
#include "core/kernel.h"
#include "core/mm.h"
#include "libc/libc_impl.h"

#define NS_PER_SEC 1000000000ULL
#define FOREVER_SECONDS (100ULL * 365 * 24 * 3600)      /* longer waits are forever */

/* --- timeouts --- */

static uint64_t deadline_after(uint64_t ns)
{
	return MAX(arch_clock_ns() + ns, 1);
}

/* poll's and epoll_wait's milliseconds: negative waits forever. */
static uint64_t deadline_ms(int ms)
{
	return ms < 0 ? 0 : deadline_after((uint64_t)ms * 1000000);
}

static int deadline_from(long long sec, long long ns, long long ns_max, uint64_t *deadline)
{
	if (sec < 0 || ns < 0 || ns >= ns_max)
		return -EINVAL;
	*deadline = (uint64_t)sec >= FOREVER_SECONDS ? 0 :
		deadline_after((uint64_t)sec * NS_PER_SEC + (uint64_t)ns * (NS_PER_SEC / ns_max));
	return 0;
}

/* A struct timespec timeout (NULL: forever) as a deadline; 0 or -errno. */
static int deadline_ts(const struct __kernel_timespec *uts, uint64_t *deadline)
{
	struct __kernel_timespec ts;

	*deadline = 0;
	if (!uts)
		return 0;
	if (copy_from_user(&ts, uts, sizeof(ts)))
		return -EFAULT;
	return deadline_from(ts.tv_sec, ts.tv_nsec, NS_PER_SEC, deadline);
}

static int deadline_tv(const struct __kernel_old_timeval *utv, uint64_t *deadline)
{
	struct __kernel_old_timeval tv;

	*deadline = 0;
	if (!utv)
		return 0;
	if (copy_from_user(&tv, utv, sizeof(tv)))
		return -EFAULT;
	return deadline_from(tv.tv_sec, tv.tv_usec, 1000000, deadline);
}

static uint64_t time_left(uint64_t deadline)
{
	uint64_t now = arch_clock_ns();

	return deadline > now ? deadline - now : 0;
}

static void put_time_left_ts(struct __kernel_timespec *uts, uint64_t deadline)
{
	uint64_t left = time_left(deadline);
	struct __kernel_timespec ts = { (long long)(left / NS_PER_SEC), (long long)(left % NS_PER_SEC) };

	if (uts && deadline)
		(void)copy_to_user(uts, &ts, sizeof(ts));
}

static void put_time_left_tv(struct __kernel_old_timeval *utv, uint64_t deadline)
{
	uint64_t left = time_left(deadline);
	struct __kernel_old_timeval tv = { (long)(left / NS_PER_SEC), (long)(left % NS_PER_SEC / 1000) };

	if (utv && deadline)
		(void)copy_to_user(utv, &tv, sizeof(tv));
}

/* --- poll sets --- */

struct poll_entry {
	int fd;                                 /* negative: ignored */
	unsigned int want;                      /* events asked for, ERR and HUP included */
	unsigned int got;                       /* what the last check found */
	struct file *file;                      /* a reference; NULL: not open */
	struct poll_waiter waiter;
};

struct poll_set {
	struct poll_sleeper sleeper;
	size_t n;
	struct poll_entry e[];
};

static struct poll_set *pset_alloc(size_t n)
{
	struct poll_set *ps = calloc(1, sizeof(*ps) + n * sizeof(ps->e[0]));

	if (ps)
		ps->n = n;
	return ps;
}

/* Looks up every descriptor and registers on its poll head; returns how
 * many descriptors are not open. */
static size_t pset_open(struct poll_set *ps)
{
	size_t missing = 0;

	poll_sleeper_init(&ps->sleeper);
	for (size_t i = 0; i < ps->n; i++) {
		struct poll_entry *e = &ps->e[i];

		if (e->fd < 0)
			continue;
		e->file = fd_get(e->fd);
		if (!e->file)
			missing++;
		else if (e->file->poll)
			poll_sleeper_add(&ps->sleeper, &e->waiter, e->file->poll);
	}
	return missing;
}

/* Sets each entry's got; returns how many have something. */
static long pset_check(struct poll_set *ps)
{
	long ready = 0;

	for (size_t i = 0; i < ps->n; i++) {
		struct poll_entry *e = &ps->e[i];

		if (e->fd < 0)
			e->got = 0;
		else if (!e->file)
			e->got = POLLNVAL;
		else
			e->got = file_poll(e->file) & e->want;
		ready += e->got != 0;
	}
	return ready;
}

static long pset_wait(struct poll_set *ps, uint64_t deadline)
{
	bool timed_out = false;
	long ready;

	for (;;) {
		ready = pset_check(ps);
		if (ready || timed_out)
			return ready;
		if (thread_signal_pending())
			return -EINTR;
		timed_out = !poll_sleeper_wait(&ps->sleeper, deadline);
	}
}

static void pset_free(struct poll_set *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		poll_remove(&ps->e[i].waiter);
		if (ps->e[i].file)
			file_put(ps->e[i].file);
	}
	free(ps);
}

/* --- poll, ppoll --- */

static long do_poll(struct pollfd *ufds, unsigned int nfds, uint64_t deadline)
{
	struct poll_set *ps;
	struct pollfd pfd;
	long ready = -EFAULT;

	if (nfds > (unsigned int)fd_limit())
		return -EINVAL;
	ps = pset_alloc(nfds);
	if (!ps)
		return -ENOMEM;
	for (unsigned int i = 0; i < nfds; i++) {
		if (copy_from_user(&pfd, &ufds[i], sizeof(pfd)))
			goto out_free;
		ps->e[i].fd = pfd.fd;
		ps->e[i].want = (unsigned short)pfd.events | POLLERR | POLLHUP;
	}
	pset_open(ps);
	ready = pset_wait(ps, deadline);
	for (unsigned int i = 0; i < nfds; i++) {
		short revents = (short)ps->e[i].got;

		if (copy_to_user(&ufds[i].revents, &revents, sizeof(revents))) {
			ready = -EFAULT;
			break;
		}
	}
out_free:
	pset_free(ps);
	return ready;
}

SYSCALL_DEFINE3(poll, struct pollfd *, ufds, unsigned int, nfds, int, timeout_ms)
{
	return do_poll(ufds, nfds, deadline_ms(timeout_ms));
}

SYSCALL_DEFINE5(ppoll, struct pollfd *, ufds, unsigned int, nfds,
		struct __kernel_timespec *, uts, const void *, sigmask, size_t, sigsetsize)
{
	uint64_t deadline;
	long ret;

	uint64_t saved;

	if (sigmask && sigsetsize != 8)
		return -EINVAL;
	ret = deadline_ts(uts, &deadline);
	if (ret)
		return ret;
	ret = libc_sigmask_push(sigmask, &saved);
	if (ret)
		return ret;
	ret = libc_sigmask_pop(saved, do_poll(ufds, nfds, deadline));
	put_time_left_ts(uts, deadline);
	return ret;
}

/* --- select, pselect6 --- */

#define SELECT_IN  (EPOLLRDNORM | EPOLLRDBAND | EPOLLIN | EPOLLHUP | EPOLLERR)
#define SELECT_OUT (EPOLLWRBAND | EPOLLWRNORM | EPOLLOUT | EPOLLERR)
#define SELECT_EX  EPOLLPRI

/* The three descriptor sets, nfds bits each, in one allocation. */
struct fd_sets {
	size_t words;
	uint64_t *set[3];                       /* in, out, except */
	uint64_t bits[];
};

static const unsigned int select_events[3] = { SELECT_IN, SELECT_OUT, SELECT_EX };

static bool fd_bit(const uint64_t *set, int fd)
{
	return set[fd / 64] >> (fd % 64) & 1;
}

static struct fd_sets *sets_copy_in(int nfds, void *const usets[3], long *err)
{
	size_t words = ((size_t)nfds + 63) / 64;
	struct fd_sets *s = calloc(1, sizeof(*s) + 3 * words * sizeof(uint64_t));

	*err = -ENOMEM;
	if (!s)
		return NULL;
	s->words = words;
	for (int k = 0; k < 3; k++) {
		s->set[k] = s->bits + k * words;
		if (usets[k] && copy_from_user(s->set[k], usets[k], words * sizeof(uint64_t))) {
			*err = -EFAULT;
			free(s);
			return NULL;
		}
	}
	if (nfds % 64)                          /* bits past nfds are not asked about */
		for (int k = 0; k < 3; k++)
			s->set[k][words - 1] &= (1ULL << (nfds % 64)) - 1;
	return s;
}

/* The poll set of every descriptor in any of the sets. */
static struct poll_set *sets_to_pset(const struct fd_sets *s, int nfds)
{
	struct poll_set *ps;
	size_t n = 0;

	for (size_t w = 0; w < s->words; w++)
		for (uint64_t any = s->set[0][w] | s->set[1][w] | s->set[2][w]; any; any &= any - 1)
			n++;
	ps = pset_alloc(n);
	if (!ps)
		return NULL;
	n = 0;
	for (int fd = 0; fd < nfds; fd++) {
		unsigned int want = 0;

		for (int k = 0; k < 3; k++)
			if (fd_bit(s->set[k], fd))
				want |= select_events[k];
		if (want) {
			ps->e[n].fd = fd;
			ps->e[n++].want = want;
		}
	}
	return ps;
}

/* Rewrites the sets with what the poll set found; the number of bits set. */
static long sets_from_pset(struct fd_sets *s, const struct poll_set *ps)
{
	long bits = 0;

	memset(s->bits, 0, 3 * s->words * sizeof(uint64_t));
	for (size_t i = 0; i < ps->n; i++) {
		const struct poll_entry *e = &ps->e[i];

		for (int k = 0; k < 3; k++) {
			if (e->got & e->want & select_events[k]) {
				s->set[k][e->fd / 64] |= 1ULL << (e->fd % 64);
				bits++;
			}
		}
	}
	return bits;
}

static long sets_copy_out(const struct fd_sets *s, void *const usets[3])
{
	for (int k = 0; k < 3; k++)
		if (usets[k] && copy_to_user(usets[k], s->set[k], s->words * sizeof(uint64_t)))
			return -EFAULT;
	return 0;
}

static long do_select(int nfds, void *uin, void *uout, void *uex, uint64_t deadline)
{
	void *const usets[3] = { uin, uout, uex };
	struct poll_set *ps;
	struct fd_sets *s;
	long ret;

	if (nfds < 0)
		return -EINVAL;
	nfds = MIN(nfds, fd_limit());
	s = sets_copy_in(nfds, usets, &ret);
	if (!s)
		return ret;
	ret = -ENOMEM;
	ps = sets_to_pset(s, nfds);
	if (!ps)
		goto out_free_sets;
	ret = -EBADF;
	if (pset_open(ps))
		goto out_free_pset;
	ret = pset_wait(ps, deadline);
	if (ret < 0)
		goto out_free_pset;                 /* -EINTR: the sets are left as they were */
	ret = sets_from_pset(s, ps);
	ret = sets_copy_out(s, usets) ?: ret;
out_free_pset:
	pset_free(ps);
out_free_sets:
	free(s);
	return ret;
}

SYSCALL_DEFINE5(select, int, nfds, void *, uin, void *, uout, void *, uex,
		struct __kernel_old_timeval *, utv)
{
	uint64_t deadline;
	long ret = deadline_tv(utv, &deadline);

	if (ret)
		return ret;
	ret = do_select(nfds, uin, uout, uex, deadline);
	put_time_left_tv(utv, deadline);
	return ret;
}

/* The sixth argument points to { const sigset_t *mask; size_t size }. */
SYSCALL_DEFINE6(pselect6, int, nfds, void *, uin, void *, uout, void *, uex,
		struct __kernel_timespec *, uts, const void *, usig)
{
	struct { const uint64_t *mask; size_t size; } sig = { NULL, 8 };
	uint64_t deadline, saved;
	long ret = deadline_ts(uts, &deadline);

	if (ret)
		return ret;
	if (usig && copy_from_user(&sig, usig, sizeof(sig)))
		return -EFAULT;
	if (sig.mask && sig.size != 8)
		return -EINVAL;
	ret = libc_sigmask_push(sig.mask, &saved);
	if (ret)
		return ret;
	ret = libc_sigmask_pop(saved, do_select(nfds, uin, uout, uex, deadline));
	put_time_left_ts(uts, deadline);
	return ret;
}

/* --- pipes and eventfds --- */

/* Gives f a descriptor, or drops it; the descriptor or -EMFILE. */
static long install(struct file *f, bool cloexec)
{
	int fd = fd_install(f, 0, cloexec);

	if (fd < 0)
		file_put(f);
	return fd;
}

/* O_DIRECT (packet mode) is not supported: -EINVAL. */
SYSCALL_DEFINE2(pipe2, int *, ufds, int, flags)
{
	struct file *ends[2];
	int fds[2];
	long err;

	if (flags & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	err = pipe_files_create(ends, (unsigned int)flags);
	if (err)
		return err;
	fds[0] = (int)install(ends[0], flags & O_CLOEXEC);
	if (fds[0] < 0) {
		file_put(ends[1]);
		return fds[0];
	}
	fds[1] = (int)install(ends[1], flags & O_CLOEXEC);
	if (fds[1] < 0) {
		fd_close(fds[0]);
		return fds[1];
	}
	if (copy_to_user(ufds, fds, sizeof(fds))) {
		fd_close(fds[0]);
		fd_close(fds[1]);
		return -EFAULT;
	}
	return 0;
}

SYSCALL_DEFINE1(pipe, int *, ufds)
{
	return sys_pipe2((long)ufds, 0);
}

SYSCALL_DEFINE2(eventfd2, unsigned int, count, int, flags)
{
	struct file *f = eventfd_file_create(count, (unsigned int)flags);

	if (IS_ERR(f))
		return PTR_ERR(f);
	return install(f, flags & EFD_CLOEXEC);
}

SYSCALL_DEFINE1(eventfd, unsigned int, count)
{
	return sys_eventfd2(count, 0);
}

/* --- epoll --- */

SYSCALL_DEFINE1(epoll_create1, int, flags)
{
	struct file *f;

	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	f = epoll_file_create();
	if (IS_ERR(f))
		return PTR_ERR(f);
	return install(f, flags & EPOLL_CLOEXEC);
}

SYSCALL_DEFINE1(epoll_create, int, size)
{
	return size <= 0 ? -EINVAL : sys_epoll_create1(0);
}

SYSCALL_DEFINE4(epoll_ctl, int, epfd, int, op, int, fd, struct epoll_event *, uev)
{
	struct epoll_event ev = { 0 };
	struct file *ep, *f;
	long ret = -EBADF;

	if (op != EPOLL_CTL_DEL && copy_from_user(&ev, uev, sizeof(ev)))
		return -EFAULT;
	ep = fd_get(epfd);
	if (!ep)
		return -EBADF;
	f = fd_get(fd);
	if (f) {
		ret = epoll_file_ctl(ep, op, fd, f, op == EPOLL_CTL_DEL ? NULL : &ev);
		file_put(f);
	}
	file_put(ep);
	return ret;
}

static long do_epoll_wait(int epfd, struct epoll_event *uev, int max, uint64_t deadline)
{
	struct file *ep;
	long ret;

	if (max <= 0)
		return -EINVAL;
	ep = fd_get(epfd);
	if (!ep)
		return -EBADF;
	ret = epoll_file_wait(ep, uev, max, deadline);
	file_put(ep);
	return ret;
}

SYSCALL_DEFINE4(epoll_wait, int, epfd, struct epoll_event *, uev, int, max, int, timeout_ms)
{
	return do_epoll_wait(epfd, uev, max, deadline_ms(timeout_ms));
}

SYSCALL_DEFINE6(epoll_pwait, int, epfd, struct epoll_event *, uev, int, max, int, timeout_ms,
		const void *, sigmask, size_t, sigsetsize)
{
	uint64_t saved;
	long ret;

	if (sigmask && sigsetsize != 8)
		return -EINVAL;
	ret = libc_sigmask_push(sigmask, &saved);
	return ret ? ret : libc_sigmask_pop(saved, do_epoll_wait(epfd, uev, max,
								   deadline_ms(timeout_ms)));
}

SYSCALL_DEFINE6(epoll_pwait2, int, epfd, struct epoll_event *, uev, int, max,
		const struct __kernel_timespec *, uts, const void *, sigmask, size_t, sigsetsize)
{
	uint64_t deadline;
	long ret = deadline_ts(uts, &deadline);

	uint64_t saved;

	if (sigmask && sigsetsize != 8)
		return -EINVAL;
	if (!ret)
		ret = libc_sigmask_push(sigmask, &saved);
	return ret ? ret : libc_sigmask_pop(saved, do_epoll_wait(epfd, uev, max, deadline));
}

/* --- timerfd (fs/timerfd.c keeps monotonic absolute times) --- */

struct itimerspec_abi {
	struct __kernel_timespec interval, value;
};


static bool timerfd_clock_ok(int clock)
{
	return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME;
}

/* A timer's setting as the application sees it: time left, interval. */
static struct itimerspec_abi timer_left(uint64_t expiry, uint64_t interval)
{
	uint64_t now = arch_clock_ns();
	uint64_t left = expiry == 0 ? 0 : expiry > now ? expiry - now : 1;

	return (struct itimerspec_abi){ libc_ns_timespec(interval), libc_ns_timespec(left) };
}

SYSCALL_DEFINE2(timerfd_create, int, clock, int, flags)
{
	if (!timerfd_clock_ok(clock))
		return -EINVAL;
	if (flags & ~(O_NONBLOCK | O_CLOEXEC))
		return -EINVAL;
	struct file *f = timerfd_file_create(clock, (unsigned int)flags);
	if (IS_ERR(f))
		return PTR_ERR(f);
	return install(f, flags & O_CLOEXEC);
}

SYSCALL_DEFINE4(timerfd_settime, int, fd, int, flags, const struct itimerspec_abi *, unew,
		struct itimerspec_abi *, uold)
{
	struct itimerspec_abi n, old;
	uint64_t expiry = 0, old_expiry, old_interval, interval;
	long long value, ivl;
	struct file *f;
	int clock, err;

	if (flags & ~TFD_TIMER_ABSTIME)
		return -EINVAL;
	if (copy_from_user(&n, unew, sizeof(n)))
		return -EFAULT;
	value = libc_timespec_ns(&n.value);
	ivl = libc_timespec_ns(&n.interval);
	if (value < 0 || ivl < 0)
		return -EINVAL;
	f = fd_get(fd);
	if (!f)
		return -EBADF;
	err = timerfd_file_get(f, &old_expiry, &old_interval, &clock);
	if (!err) {
		interval = (uint64_t)ivl;
		if (value) {
			uint64_t now = arch_clock_ns();
			if (!(flags & TFD_TIMER_ABSTIME))
				expiry = now + (uint64_t)value;
			else if (clock == CLOCK_REALTIME)   /* the wall clock's time, on ours */
				expiry = (uint64_t)value > libc_realtime_offset() ?
					 (uint64_t)value - libc_realtime_offset() : 1;
			else
				expiry = (uint64_t)value;
			if (expiry == 0)
				expiry = 1;
		}
		err = timerfd_file_set(f, expiry, interval, &old_expiry, &old_interval);
	}
	file_put(f);
	if (err)
		return err;
	old = timer_left(old_expiry, old_interval);
	return uold && copy_to_user(uold, &old, sizeof(old)) ? -EFAULT : 0;
}

SYSCALL_DEFINE2(timerfd_gettime, int, fd, struct itimerspec_abi *, ucur)
{
	uint64_t expiry, interval;
	struct itimerspec_abi cur;
	struct file *f = fd_get(fd);
	int clock, err;

	if (!f)
		return -EBADF;
	err = timerfd_file_get(f, &expiry, &interval, &clock);
	file_put(f);
	if (err)
		return err;
	cur = timer_left(expiry, interval);
	return copy_to_user(ucur, &cur, sizeof(cur));
}
