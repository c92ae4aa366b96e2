/* tests/posix/timerfd.c - timers as files: one-shot and periodic, read and
 * epoll, gettime, disarming, and the errors of bad input. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec its = { .it_value = { 0, 20 * 1000 * 1000 } };
	uint64_t n = 0;

	printf("create: %d\n", fd >= 0);
	printf("settime one-shot: %d\n", timerfd_settime(fd, 0, &its, NULL));
	struct itimerspec cur;
	timerfd_gettime(fd, &cur);
	printf("armed: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0);
	printf("read blocks, then: %zd %llu\n", read(fd, &n, sizeof(n)), (unsigned long long)n);
	timerfd_gettime(fd, &cur);
	printf("disarmed after: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

	/* Periodic, 10 ms, watched by epoll: five wakeups. */
	its.it_value.tv_nsec = 10 * 1000 * 1000;
	its.it_interval.tv_nsec = 10 * 1000 * 1000;
	timerfd_settime(fd, 0, &its, NULL);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 }, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	uint64_t total = 0;
	for (int i = 0; i < 5; i++) {
		if (epoll_wait(ep, &out, 1, 2000) != 1 || out.data.u32 != 7)
			break;
		read(fd, &n, sizeof(n));
		total += n;
	}
	printf("periodic: at least 5 expirations: %d\n", total >= 5);

	/* Disarm; a non-blocking read finds nothing. */
	memset(&its, 0, sizeof(its));
	timerfd_settime(fd, 0, &its, NULL);
	int nb = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	errno = 0;
	printf("nonblocking, unarmed: %zd %s\n", read(nb, &n, sizeof(n)), errno == EAGAIN ? "EAGAIN" : "?");

	/* An absolute time on the wall clock, already past: ready at once. */
	int rt = timerfd_create(CLOCK_REALTIME, 0);
	struct itimerspec past = { .it_value = { 1000, 0 } };
	printf("absolute, in the past: %d", timerfd_settime(rt, TFD_TIMER_ABSTIME, &past, NULL));
	printf(", read %zd\n", read(rt, &n, sizeof(n)));

	errno = 0;
	printf("bad clock: %d %s\n", timerfd_create(12345, 0), errno == EINVAL ? "EINVAL" : "?");
	errno = 0;
	printf("short read: %zd %s\n", read(fd, &n, 4), errno == EINVAL ? "EINVAL" : "?");
	struct itimerspec bad = { .it_value = { 0, 2000000000 } };
	errno = 0;
	printf("bad nsec: %d %s\n", timerfd_settime(fd, 0, &bad, NULL), errno == EINVAL ? "EINVAL" : "?");
	errno = 0;
	printf("not a timerfd: %d %s\n", timerfd_settime(ep, 0, &its, NULL),
	       errno == EINVAL ? "EINVAL" : "?");
	return 0;
}
