/* tests/posix/io.c - pipes, eventfd, poll and epoll (level, edge, one-shot)
 * across threads. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int p[2];

static void *writer(void *arg)
{
	(void)arg;
	char block[1000];
	for (int i = 0; i < 200; i++) {
		memset(block, 'a' + i % 26, sizeof(block));
		if (write(p[1], block, sizeof(block)) != sizeof(block))
			return (void *)1;
	}
	close(p[1]);
	return NULL;
}

static void *poster(void *arg)
{
	usleep(20000);
	uint64_t one = 1;
	write(*(int *)arg, &one, sizeof(one));
	return NULL;
}

int main(void)
{
	pthread_t t;
	char buf[4096];
	long total = 0, sum = 0;

	/* A pipe between threads, to EOF. */
	pipe(p);
	pthread_create(&t, NULL, writer, NULL);
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) > 0) {
		total += n;
		for (ssize_t i = 0; i < n; i++)
			sum += buf[i];
	}
	pthread_join(t, NULL);
	printf("pipe: %ld bytes, sum %ld, then %zd\n", total, sum, n);
	close(p[0]);

	/* Non-blocking and a closed reader. */
	pipe2(p, O_NONBLOCK);
	n = read(p[0], buf, 1);
	printf("empty non-blocking read: %zd %s\n", n, errno == EAGAIN ? "EAGAIN" : "?");
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	n = write(p[1], "x", 1);
	printf("write, no reader: %zd %s\n", n, errno == EPIPE ? "EPIPE" : "?");
	close(p[1]);

	/* eventfd and poll with a timeout, then a wakeup from a thread. */
	int efd = eventfd(0, 0);
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	printf("poll timeout: %d\n", poll(&pfd, 1, 10));
	pthread_create(&t, NULL, poster, &efd);
	printf("poll woken: %d revents %s\n", poll(&pfd, 1, 5000),
	       pfd.revents & POLLIN ? "POLLIN" : "?");
	pthread_join(t, NULL);
	uint64_t v;
	read(efd, &v, sizeof(v));
	printf("eventfd value %llu\n", (unsigned long long)v);
	pfd.fd = 1000;
	printf("poll bad fd: %d %s\n", poll(&pfd, 1, 0), pfd.revents & POLLNVAL ? "POLLNVAL" : "?");

	/* epoll: level-triggered reports again, edge once, one-shot once. */
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int lt[2], et[2], os[2];
	pipe(lt); pipe(et); pipe(os);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 };
	epoll_ctl(ep, EPOLL_CTL_ADD, lt[0], &ev);
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLET, .data.u64 = 2 };
	epoll_ctl(ep, EPOLL_CTL_ADD, et[0], &ev);
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 3 };
	epoll_ctl(ep, EPOLL_CTL_ADD, os[0], &ev);
	printf("add twice: %d %s\n", epoll_ctl(ep, EPOLL_CTL_ADD, lt[0], &ev),
	       errno == EEXIST ? "EEXIST" : "?");
	write(lt[1], "x", 1); write(et[1], "x", 1); write(os[1], "x", 1);
	for (int round = 0; round < 2; round++) {
		struct epoll_event out[8];
		int k = epoll_wait(ep, out, 8, 100);
		uint64_t seen = 0;
		for (int i = 0; i < k; i++)
			seen |= 1u << out[i].data.u64;
		printf("epoll round %d: %d ready, lt %d et %d oneshot %d\n", round, k,
		       !!(seen & 2), !!(seen & 4), !!(seen & 8));
	}
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 3 };
	epoll_ctl(ep, EPOLL_CTL_MOD, os[0], &ev);
	struct epoll_event one;
	printf("oneshot re-armed: %d data %llu\n", epoll_wait(ep, &one, 1, 100) > 0 ? 1 : 0,
	       (unsigned long long)one.data.u64);
	return 0;
}
