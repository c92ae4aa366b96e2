/*
 * tests/kernel/test_epoll.c - epoll: errors, level- and edge-triggered and
 * one-shot items, wakeups across CPUs, nesting, many items, closed
 * descriptors, and no leaks.
 */
#include "tests/kernel/fdio.h"

static int ep_wait(int epfd, struct epoll_event *ev, int max, int timeout_ms)
{
	return (int)sys_epoll_wait(epfd, (long)ev, max, timeout_ms);
}

KTEST(epoll_errors)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = (int)sys_epoll_create1(EPOLL_CLOEXEC), ep2 = (int)sys_epoll_create1(0);
	int efd = (int)sys_eventfd2(0, 0);

	KCHECK(t, ep >= 0 && ep2 >= 0 && efd >= 0);
	KCHECK_EQ(t, fd_get_cloexec(ep), 1);
	KCHECK_EQ(t, sys_epoll_create1(1), -EINVAL);
	KCHECK_EQ(t, epoll_add(ep, efd, EPOLLIN, 0), 0);
	KCHECK_EQ(t, epoll_add(ep, efd, EPOLLIN, 0), -EEXIST);
	KCHECK_EQ(t, sys_epoll_ctl(ep, EPOLL_CTL_MOD, ep2, (long)&ev), -ENOENT);
	KCHECK_EQ(t, sys_epoll_ctl(ep, EPOLL_CTL_DEL, ep2, 0), -ENOENT);
	KCHECK_EQ(t, sys_epoll_ctl(ep, 99, efd, (long)&ev), -EINVAL);
	KCHECK_EQ(t, sys_epoll_ctl(ep, EPOLL_CTL_ADD, efd, 0), -EFAULT);
	KCHECK_EQ(t, epoll_add(ep, ep, EPOLLIN, 0), -EINVAL);          /* itself */
	KCHECK_EQ(t, epoll_add(efd, ep, EPOLLIN, 0), -EINVAL);         /* not an epoll */
	KCHECK_EQ(t, epoll_add(ep, 4000, EPOLLIN, 0), -EBADF);
	KCHECK_EQ(t, epoll_add(4000, efd, EPOLLIN, 0), -EBADF);
	KCHECK_EQ(t, epoll_add(ep2, ep, EPOLLIN, 0), 0);
	KCHECK_EQ(t, epoll_add(ep, ep2, EPOLLIN, 0), -ELOOP);          /* a loop */
	KCHECK_EQ(t, epoll_add(ep2, efd, EPOLLIN | EPOLLEXCLUSIVE, 0), 0);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	KCHECK_EQ(t, sys_epoll_ctl(ep2, EPOLL_CTL_MOD, efd, (long)&ev), -EINVAL);
	KCHECK_EQ(t, ep_wait(ep, &ev, 0, 0), -EINVAL);
	KCHECK_EQ(t, ep_wait(efd, &ev, 1, 0), -EINVAL);
	KCHECK_EQ(t, ep_wait(4000, &ev, 1, 0), -EBADF);
	KCHECK_EQ(t, sys_epoll_ctl(ep, EPOLL_CTL_DEL, efd, 0), 0);
	KCHECK_EQ(t, sys_epoll_ctl(ep, EPOLL_CTL_DEL, efd, 0), -ENOENT);
	fd_close(ep);
	fd_close(ep2);
	fd_close(efd);
}

static int open_pipe(struct ktest_ctx *t, int fds[2])
{
	long r = sys_pipe2((long)fds, O_NONBLOCK);

	KCHECK_EQ(t, r, 0);
	return (int)r;
}

static void close_all(int ep, int fds[2])
{
	fd_close(ep);
	fd_close(fds[0]);
	fd_close(fds[1]);
}

KTEST(epoll_level_triggered_reports_while_ready)
{
	struct epoll_event ev[4];
	int fds[2], ep = (int)sys_epoll_create1(0);
	char c;

	if (ep < 0 || open_pipe(t, fds))
		return;
	KCHECK_EQ(t, epoll_add(ep, fds[0], EPOLLIN, 0x1122334455667788ULL), 0);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 0);
	fd_write(fds[1], "ab", 2);
	for (int round = 0; round < 2; round++) {       /* reported again: still ready */
		KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 1);
		KCHECK_EQ(t, ev[0].events, EPOLLIN);
		KCHECK_EQ(t, ev[0].data, 0x1122334455667788ULL);
	}
	fd_read(fds[0], &c, 1);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 1);
	fd_read(fds[0], &c, 1);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 0);
	close_all(ep, fds);
}

KTEST(epoll_edge_triggered_reports_each_change_once)
{
	struct epoll_event ev[4];
	int fds[2], ep = (int)sys_epoll_create1(0);

	if (ep < 0 || open_pipe(t, fds))
		return;
	KCHECK_EQ(t, epoll_add(ep, fds[0], EPOLLIN | EPOLLET, 7), 0);
	fd_write(fds[1], "a", 1);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 1);
	KCHECK_EQ(t, ev[0].data, 7);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 0);         /* still readable, no new edge */
	fd_write(fds[1], "b", 1);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 1);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 0);
	close_all(ep, fds);
}

KTEST(epoll_oneshot_disarms_until_mod)
{
	struct epoll_event ev[4], mod = { .events = EPOLLIN | EPOLLONESHOT, .data = 9 };
	int fds[2], ep = (int)sys_epoll_create1(0);

	if (ep < 0 || open_pipe(t, fds))
		return;
	KCHECK_EQ(t, epoll_add(ep, fds[0], EPOLLIN | EPOLLONESHOT, 8), 0);
	fd_write(fds[1], "a", 1);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 1);
	KCHECK_EQ(t, ev[0].data, 8);
	fd_write(fds[1], "b", 1);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 0);         /* disarmed */
	KCHECK_EQ(t, sys_epoll_ctl(ep, EPOLL_CTL_MOD, fds[0], (long)&mod), 0);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 1);
	KCHECK_EQ(t, ev[0].data, 9);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 0);
	close_all(ep, fds);
}

KTEST(epoll_reports_hangup_and_error)
{
	struct epoll_event ev[4];
	int fds[2], ep = (int)sys_epoll_create1(0);

	if (ep < 0 || open_pipe(t, fds))
		return;
	KCHECK_EQ(t, epoll_add(ep, fds[0], EPOLLIN, 1), 0);
	fd_close(fds[1]);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 1);
	KCHECK_EQ(t, ev[0].events, EPOLLHUP);           /* asked or not */
	fd_close(fds[0]);
	fd_close(ep);

	if (open_pipe(t, fds))
		return;
	ep = (int)sys_epoll_create1(0);
	KCHECK_EQ(t, epoll_add(ep, fds[1], EPOLLOUT, 2), 0);
	fd_close(fds[0]);
	KCHECK_EQ(t, ep_wait(ep, ev, 4, 0), 1);
	KCHECK_EQ(t, ev[0].events, EPOLLOUT | EPOLLERR);
	fd_close(fds[1]);
	fd_close(ep);
}

/* --- waiting across CPUs --- */

struct poster {
	int fd, count;
	uint64_t delay_ns;
};

static void post_later(void *arg)
{
	struct poster *p = arg;
	uint64_t one = 1;

	for (int i = 0; i < p->count; i++) {
		thread_sleep_ns(p->delay_ns);
		fd_write(p->fd, &one, sizeof(one));
	}
}

/* Level or edge: each post from another CPU ends a blocking wait. */
static void wait_for_posts(struct ktest_ctx *t, unsigned int mode)
{
	static struct poster p;
	struct epoll_event ev;
	int ep = (int)sys_epoll_create1(0), efd = (int)sys_eventfd2(0, EFD_NONBLOCK);
	struct thread *th;
	int seen = 0;
	uint64_t v, t0 = arch_clock_ns();

	KCHECK_EQ(t, epoll_add(ep, efd, EPOLLIN | mode, 5), 0);
	p = (struct poster){ efd, 50, 200000 };
	th = thread_create(post_later, &p, &THREAD_ATTR(.cpu = (int)(ncpus_online - 1)));
	while (seen < p.count && arch_clock_ns() - t0 < 10000000000ULL) {
		if (ep_wait(ep, &ev, 1, 5000) != 1 || ev.data != 5)
			break;
		if (fd_read(efd, &v, sizeof(v)) == 8)
			seen += (int)v;
	}
	KCHECK_EQ(t, thread_join(th), 0);
	KCHECK_EQ(t, seen, p.count);
	fd_close(ep);
	fd_close(efd);
}

KTEST(epoll_level_wait_woken_across_cpus)
{
	wait_for_posts(t, 0);
}

KTEST(epoll_edge_wait_woken_across_cpus)
{
	wait_for_posts(t, EPOLLET);
}

KTEST(epoll_wait_times_out)
{
	struct epoll_event ev;
	int ep = (int)sys_epoll_create1(0);
	uint64_t t0 = arch_clock_ns();

	KCHECK_EQ(t, ep_wait(ep, &ev, 1, 15), 0);
	KCHECK(t, arch_clock_ns() - t0 >= 15000000);
	fd_close(ep);
}

KTEST(epoll_nested_instance_is_readable)
{
	struct epoll_event ev[2];
	int inner = (int)sys_epoll_create1(0), outer = (int)sys_epoll_create1(0);
	int efd = (int)sys_eventfd2(0, 0);
	uint64_t one = 1;

	KCHECK_EQ(t, epoll_add(inner, efd, EPOLLIN, 1), 0);
	KCHECK_EQ(t, epoll_add(outer, inner, EPOLLIN | EPOLLET, 2), 0);
	KCHECK_EQ(t, ep_wait(outer, ev, 2, 0), 0);
	fd_write(efd, &one, sizeof(one));
	KCHECK_EQ(t, ep_wait(outer, ev, 2, 0), 1);
	KCHECK_EQ(t, ev[0].data, 2);
	KCHECK_EQ(t, ev[0].events, EPOLLIN);
	KCHECK_EQ(t, ep_wait(inner, ev, 2, 0), 1);      /* the outer did not consume it */
	KCHECK_EQ(t, ev[0].data, 1);
	fd_close(outer);
	fd_close(inner);
	fd_close(efd);
}

/* --- many items --- */

#define NPIPES 1000

KTEST(epoll_with_a_thousand_pipes)
{
	static int fds[NPIPES][2];
	static unsigned char seen[NPIPES];
	struct epoll_event ev[64];
	int old_limit = fd_limit(), ep, opened = 0, expected = 0, got = 0, wrong = 0;

	KCHECK_EQ(t, fd_set_limit(4 * NPIPES), 0);
	ep = (int)sys_epoll_create1(0);
	for (; opened < NPIPES; opened++) {
		if (sys_pipe2((long)fds[opened], O_NONBLOCK) != 0 ||
		    epoll_add(ep, fds[opened][0], EPOLLIN, (uint64_t)opened + 1000) != 0)
			break;
	}
	KCHECK_EQ(t, opened, NPIPES);
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < opened; i += 37, expected++)
		fd_write(fds[i][1], "x", 1);
	for (int n; (n = ep_wait(ep, ev, 64, 0)) > 0; ) {
		for (int k = 0; k < n; k++) {
			int i = (int)ev[k].data - 1000;
			char c;

			if (i < 0 || i >= opened || i % 37 || seen[i]++ || fd_read(fds[i][0], &c, 1) != 1)
				wrong++;
			got++;
		}
	}
	KCHECK_EQ(t, wrong, 0);
	KCHECK_EQ(t, got, expected);
	fd_close(ep);
	for (int i = 0; i < opened; i++) {
		fd_close(fds[i][0]);
		fd_close(fds[i][1]);
	}
	fd_set_limit(old_limit);
}

/* --- closed descriptors and leaks --- */

/* An item whose descriptor was closed is dropped, and its file with it,
 * the next time a scan meets it. */
KTEST(epoll_drops_items_of_closed_descriptors)
{
	struct epoll_event ev[2];
	int fds[2], ep = (int)sys_epoll_create1(0);

	if (ep < 0 || open_pipe(t, fds))
		return;
	KCHECK_EQ(t, epoll_add(ep, fds[0], EPOLLIN, 3), 0);
	fd_close(fds[0]);
	KCHECK_EQ(t, fd_write(fds[1], "x", 1), 1);     /* the item keeps the reader */
	KCHECK_EQ(t, ep_wait(ep, ev, 2, 0), 0);         /* stale: dropped, not reported */
	KCHECK_EQ(t, fd_write(fds[1], "x", 1), -EPIPE);
	fd_close(fds[1]);
	fd_close(ep);
}

static void epoll_round(void)
{
	struct epoll_event ev[4];
	int fds[2], ep = (int)sys_epoll_create1(0), inner = (int)sys_epoll_create1(0);

	if (sys_pipe2((long)fds, 0) == 0) {
		epoll_add(inner, fds[0], EPOLLIN, 1);
		epoll_add(ep, inner, EPOLLIN, 2);
		epoll_add(ep, fds[1], EPOLLOUT | EPOLLET, 3);
		fd_write(fds[1], "x", 1);
		ep_wait(ep, ev, 4, 0);
		fd_close(fds[0]);
		fd_close(fds[1]);
	}
	fd_close(inner);
	fd_close(ep);
}

KTEST(epoll_does_not_leak)
{
	size_t before;

	epoll_round();
	synchronize_rcu();
	thread_sleep_ns(10000000);
	before = malloc_in_use_bytes();
	for (int i = 0; i < 200; i++)
		epoll_round();
	KCHECK(t, heap_settled(before) <= before);
}
