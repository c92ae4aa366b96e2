/*
 * tests/kernel/test_pipe.c - pipes, eventfds, poll and select, in the
 * booted kernel, across CPUs.
 */
#include "tests/kernel/fdio.h"

static int open_pipe(struct ktest_ctx *t, int fds[2], int flags)
{
	long r = sys_pipe2((long)fds, flags);

	KCHECK_EQ(t, r, 0);
	return (int)r;
}

static void close_pipe(int fds[2])
{
	fd_close(fds[0]);
	fd_close(fds[1]);
}

static unsigned int fd_events(int fd)
{
	struct file *f = fd_get(fd);
	unsigned int events = f ? file_poll(f) : POLLNVAL;

	if (f)
		file_put(f);
	return events;
}

KTEST(pipe_write_then_read)
{
	int fds[2], avail = -1;
	char buf[16] = { 0 };

	if (open_pipe(t, fds, 0))
		return;
	KCHECK_EQ(t, fd_events(fds[0]) & EPOLLIN, 0);
	KCHECK(t, fd_events(fds[1]) & EPOLLOUT);
	KCHECK_EQ(t, fd_write(fds[1], "hello", 5), 5);
	KCHECK(t, fd_events(fds[0]) & EPOLLIN);
	KCHECK_EQ(t, fd_ioctl(fds[0], FIONREAD, (unsigned long)&avail), 0);
	KCHECK_EQ(t, avail, 5);
	KCHECK_EQ(t, fd_read(fds[0], buf, sizeof(buf)), 5);
	KCHECK_EQ(t, memcmp(buf, "hello", 5), 0);
	KCHECK_EQ(t, fd_read(fds[1], buf, 1), -EINVAL);        /* the write end cannot read */
	KCHECK_EQ(t, fd_ioctl(fds[0], 0x1234, 0), -ENOTTY);
	close_pipe(fds);
}

KTEST(pipe_bad_arguments)
{
	int fds[2];

	KCHECK_EQ(t, sys_pipe2((long)fds, O_DIRECT), -EINVAL);
	KCHECK_EQ(t, sys_pipe2((long)fds, 0x40000000), -EINVAL);
	KCHECK_EQ(t, sys_pipe2(0, 0), -EFAULT);
}

KTEST(pipe_eof_when_writer_closes)
{
	int fds[2];
	char c;

	if (open_pipe(t, fds, 0))
		return;
	KCHECK_EQ(t, fd_write(fds[1], "x", 1), 1);
	fd_close(fds[1]);
	KCHECK_EQ(t, fd_events(fds[0]), EPOLLIN | EPOLLRDNORM | EPOLLHUP);
	KCHECK_EQ(t, fd_read(fds[0], &c, 1), 1);
	KCHECK_EQ(t, fd_read(fds[0], &c, 1), 0);
	KCHECK_EQ(t, fd_events(fds[0]), EPOLLHUP);
	fd_close(fds[0]);
}

KTEST(pipe_epipe_when_reader_closes)
{
	int fds[2];

	if (open_pipe(t, fds, 0))
		return;
	fd_close(fds[0]);
	KCHECK_EQ(t, fd_write(fds[1], "x", 1), -EPIPE);
	KCHECK(t, fd_events(fds[1]) & EPOLLERR);
	fd_close(fds[1]);
}

KTEST(pipe_nonblocking_eagain_and_partial_writes)
{
	static char big[65536];
	int fds[2];

	if (open_pipe(t, fds, O_NONBLOCK))
		return;
	KCHECK_EQ(t, fd_read(fds[0], big, 1), -EAGAIN);
	KCHECK_EQ(t, fd_write(fds[1], big, 65536 - 10), 65536 - 10);
	KCHECK_EQ(t, fd_events(fds[1]) & EPOLLOUT, 0);
	KCHECK_EQ(t, fd_write(fds[1], big, 100), -EAGAIN);     /* atomic: all or nothing */
	KCHECK_EQ(t, fd_write(fds[1], big, 5000), 10);          /* larger: what fits */
	KCHECK_EQ(t, fd_write(fds[1], big, 5000), -EAGAIN);
	KCHECK_EQ(t, fd_read(fds[0], big, sizeof(big)), 65536);
	KCHECK(t, fd_events(fds[1]) & EPOLLOUT);
	close_pipe(fds);
}

/* --- a large transfer between CPUs --- */

#define TRANSFER_BYTES (8u << 20)

static unsigned char stream_byte(uint32_t i)
{
	return (unsigned char)(i * 7 + (i >> 9) + (i >> 17));
}

struct transfer {
	int fd;
	long failed;
};

static void transfer_writer(void *arg)
{
	struct transfer *tr = arg;
	unsigned char *buf = malloc(20000);
	uint32_t sent = 0, chunk = 1;

	while (buf && sent < TRANSFER_BYTES) {
		uint32_t n = MIN(chunk, TRANSFER_BYTES - sent);

		for (uint32_t i = 0; i < n; i++)
			buf[i] = stream_byte(sent + i);
		if (fd_write(tr->fd, buf, n) != (long)n) {
			tr->failed = 1;
			break;
		}
		sent += n;
		chunk = (chunk * 1103515245 + 12345) % 20000 + 1;
	}
	free(buf);
	fd_close(tr->fd);                       /* the reader sees end of file */
}

KTEST(pipe_large_transfer_across_cpus)
{
	static struct transfer tr;
	unsigned char *buf = malloc(30000);
	uint32_t got = 0, bad = 0, chunk = 7;
	struct thread *th;
	int fds[2];
	long n;

	if (!buf || open_pipe(t, fds, 0))
		return;
	tr.fd = fds[1];
	tr.failed = 0;
	th = thread_create(transfer_writer, &tr,
			   &THREAD_ATTR(.name = "pipe-writer", .cpu = (int)(ncpus_online - 1)));
	KCHECK(t, !IS_ERR(th));
	while ((n = fd_read(fds[0], buf, chunk)) > 0) {
		for (long i = 0; i < n; i++)
			bad += buf[i] != stream_byte(got + (uint32_t)i);
		got += (uint32_t)n;
		chunk = (chunk * 69069 + 1) % 30000 + 1;
	}
	KCHECK_EQ(t, n, 0);
	KCHECK_EQ(t, thread_join(th), 0);
	KCHECK_EQ(t, tr.failed, 0);
	KCHECK_EQ(t, got, TRANSFER_BYTES);
	KCHECK_EQ(t, bad, 0);
	fd_close(fds[0]);
	free(buf);
}

/* --- writes of at most PIPE_BUF bytes are never interleaved --- */

#define RECORD 1000
#define RECORDS_EACH 1500
#define WRITERS 4

static int record_fd;

static void record_writer(void *arg)
{
	unsigned char rec[RECORD];

	memset(rec, (int)(uintptr_t)arg, sizeof(rec));
	for (int i = 0; i < RECORDS_EACH; i++)
		if (fd_write(record_fd, rec, sizeof(rec)) != RECORD)
			return;
}

KTEST(pipe_small_writes_are_atomic_with_four_writers)
{
	static unsigned char rec[RECORD];
	struct thread *th[WRITERS];
	int fds[2], count[WRITERS + 1] = { 0 }, mixed = 0;

	if (open_pipe(t, fds, 0))
		return;
	record_fd = fds[1];
	for (int i = 0; i < WRITERS; i++)
		th[i] = thread_create(record_writer, (void *)(uintptr_t)(i + 1),
				      &THREAD_ATTR(.cpu = (int)(i % ncpus_online)));
	for (int r = 0; r < WRITERS * RECORDS_EACH; r++) {
		size_t have = 0;

		while (have < RECORD) {         /* reads may split a record, writes may not */
			long n = fd_read(fds[0], rec + have, RECORD - have);
			if (n <= 0)
				break;
			have += (size_t)n;
		}
		for (int i = 1; i < RECORD; i++)
			mixed += rec[i] != rec[0];
		if (rec[0] >= 1 && rec[0] <= WRITERS)
			count[rec[0]]++;
	}
	for (int i = 0; i < WRITERS; i++)
		KCHECK_EQ(t, thread_join(th[i]), 0);
	KCHECK_EQ(t, mixed, 0);
	for (int i = 1; i <= WRITERS; i++)
		KCHECK_EQ(t, count[i], RECORDS_EACH);
	close_pipe(fds);
}

/* --- eventfd --- */

KTEST(eventfd_counter_mode)
{
	uint64_t v = 5;
	uint32_t small = 1;
	int fd = (int)sys_eventfd2(3, EFD_NONBLOCK);

	KCHECK(t, fd >= 0);
	KCHECK_EQ(t, fd_events(fd), EPOLLIN | EPOLLOUT);
	KCHECK_EQ(t, fd_write(fd, &v, sizeof(v)), 8);
	KCHECK_EQ(t, fd_read(fd, &v, sizeof(v)), 8);
	KCHECK_EQ(t, v, 8);
	KCHECK_EQ(t, fd_read(fd, &v, sizeof(v)), -EAGAIN);
	KCHECK_EQ(t, fd_events(fd), EPOLLOUT);
	KCHECK_EQ(t, fd_read(fd, &small, sizeof(small)), -EINVAL);
	KCHECK_EQ(t, fd_write(fd, &small, sizeof(small)), -EINVAL);
	v = ~0ULL;
	KCHECK_EQ(t, fd_write(fd, &v, sizeof(v)), -EINVAL);
	v = 0xfffffffffffffffeULL;
	KCHECK_EQ(t, fd_write(fd, &v, sizeof(v)), 8);
	KCHECK_EQ(t, fd_events(fd), EPOLLIN);
	v = 1;
	KCHECK_EQ(t, fd_write(fd, &v, sizeof(v)), -EAGAIN);    /* would overflow */
	KCHECK_EQ(t, fd_read(fd, &v, sizeof(v)), 8);
	KCHECK_EQ(t, v, 0xfffffffffffffffeULL);
	KCHECK_EQ(t, sys_eventfd2(0, 0x100), -EINVAL);
	fd_close(fd);
}

KTEST(eventfd_semaphore_mode)
{
	uint64_t v = 0;
	int fd = (int)sys_eventfd2(3, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);

	KCHECK(t, fd >= 0);
	KCHECK_EQ(t, fd_get_cloexec(fd), 1);
	for (int i = 0; i < 3; i++) {
		KCHECK_EQ(t, fd_read(fd, &v, sizeof(v)), 8);
		KCHECK_EQ(t, v, 1);
	}
	KCHECK_EQ(t, fd_read(fd, &v, sizeof(v)), -EAGAIN);
	fd_close(fd);
}

static void eventfd_poster(void *arg)
{
	uint64_t one = 1;

	for (int i = 0; i < 1000; i++)
		fd_write((int)(uintptr_t)arg, &one, sizeof(one));
}

/* Blocking reads across CPUs: every post is counted exactly once. */
KTEST(eventfd_blocking_reads_across_cpus)
{
	int fd = (int)sys_eventfd2(0, 0);
	uint64_t total = 0, v;
	struct thread *th;

	KCHECK(t, fd >= 0);
	th = thread_create(eventfd_poster, (void *)(uintptr_t)fd,
			   &THREAD_ATTR(.cpu = (int)(ncpus_online - 1)));
	while (total < 1000 && fd_read(fd, &v, sizeof(v)) == 8)
		total += v;
	KCHECK_EQ(t, thread_join(th), 0);
	KCHECK_EQ(t, total, 1000);
	fd_close(fd);
}

/* --- poll and select --- */

struct delayed_write {
	int fd;
	uint64_t delay_ns;
};

static void write_later(void *arg)
{
	struct delayed_write *d = arg;

	thread_sleep_ns(d->delay_ns);
	fd_write(d->fd, "!", 1);
}

KTEST(poll_times_out_after_its_timeout)
{
	int fds[2];
	struct pollfd p;
	uint64_t t0;

	if (open_pipe(t, fds, 0))
		return;
	p = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	t0 = arch_clock_ns();
	KCHECK_EQ(t, sys_poll((long)&p, 1, 20), 0);
	KCHECK(t, arch_clock_ns() - t0 >= 20000000);
	KCHECK_EQ(t, p.revents, 0);
	KCHECK_EQ(t, sys_poll((long)&p, 1, 0), 0);
	p.events = POLLOUT;
	p.fd = fds[1];
	KCHECK_EQ(t, sys_poll((long)&p, 1, -1), 1);
	KCHECK_EQ(t, p.revents, POLLOUT);
	close_pipe(fds);
}

KTEST(poll_wakes_early_from_another_cpu)
{
	static struct delayed_write d;
	struct pollfd p[2];
	struct thread *th;
	int fds[2];
	uint64_t t0;

	if (open_pipe(t, fds, 0))
		return;
	d = (struct delayed_write){ fds[1], 10000000 };
	p[0] = (struct pollfd){ .fd = -1, .events = POLLIN };  /* ignored */
	p[1] = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	t0 = arch_clock_ns();
	th = thread_create(write_later, &d, &THREAD_ATTR(.cpu = (int)(ncpus_online - 1)));
	KCHECK_EQ(t, sys_poll((long)p, 2, 10000), 1);
	KCHECK(t, arch_clock_ns() - t0 < 5000000000ULL);
	KCHECK_EQ(t, p[0].revents, 0);
	KCHECK_EQ(t, p[1].revents, POLLIN);
	KCHECK_EQ(t, thread_join(th), 0);
	close_pipe(fds);
}

KTEST(poll_errors_and_nval)
{
	struct pollfd p = { .fd = 4000, .events = POLLIN };
	struct __kernel_timespec ts = { 0, 5000000 };
	uint64_t t0;

	KCHECK_EQ(t, sys_poll((long)&p, 1, 0), 1);
	KCHECK_EQ(t, p.revents, POLLNVAL);
	KCHECK_EQ(t, sys_poll((long)&p, (long)fd_limit() + 1, 0), -EINVAL);
	KCHECK_EQ(t, sys_poll(0, 1, 0), -EFAULT);
	t0 = arch_clock_ns();
	KCHECK_EQ(t, sys_ppoll(0, 0, (long)&ts, 0, 0), 0);     /* a sleep */
	KCHECK(t, arch_clock_ns() - t0 >= 5000000);
	KCHECK_EQ(t, ts.tv_sec, 0);
	KCHECK_EQ(t, ts.tv_nsec, 0);                    /* no time left */
	ts.tv_nsec = 1000000000;
	KCHECK_EQ(t, sys_ppoll(0, 0, (long)&ts, 0, 0), -EINVAL);
}

KTEST(select_reports_ready_sets)
{
	uint64_t rd[16], wr[16];
	struct __kernel_old_timeval tv = { 0, 10000 };
	int fds[2], nfds;
	uint64_t t0;

	if (open_pipe(t, fds, 0))
		return;
	nfds = MAX(fds[0], fds[1]) + 1;
	memset(rd, 0, sizeof(rd));
	memset(wr, 0, sizeof(wr));
	rd[fds[0] / 64] |= 1ULL << (fds[0] % 64);
	t0 = arch_clock_ns();
	KCHECK_EQ(t, sys_select(nfds, (long)rd, 0, 0, (long)&tv), 0);
	KCHECK(t, arch_clock_ns() - t0 >= 10000000);
	KCHECK_EQ(t, rd[fds[0] / 64], 0);

	fd_write(fds[1], "x", 1);
	rd[fds[0] / 64] |= 1ULL << (fds[0] % 64);
	wr[fds[1] / 64] |= 1ULL << (fds[1] % 64);
	KCHECK_EQ(t, sys_select(nfds, (long)rd, (long)wr, 0, 0), 2);
	KCHECK(t, rd[fds[0] / 64] >> (fds[0] % 64) & 1);
	KCHECK(t, wr[fds[1] / 64] >> (fds[1] % 64) & 1);

	wr[fds[1] / 64] |= 1ULL << (fds[1] % 64);
	fd_close(fds[1]);                       /* now a closed descriptor */
	KCHECK_EQ(t, sys_select(nfds, 0, (long)wr, 0, 0), -EBADF);
	KCHECK_EQ(t, sys_select(-1, 0, 0, 0, 0), -EINVAL);
	KCHECK_EQ(t, sys_select(nfds, 8, 0, 0, 0), -EFAULT);
	fd_close(fds[0]);
}

KTEST(pselect_wakes_early_from_another_cpu)
{
	static struct delayed_write d;
	struct __kernel_timespec ts = { 10, 0 };
	uint64_t rd[16] = { 0 };
	struct thread *th;
	int fds[2];

	if (open_pipe(t, fds, 0))
		return;
	d = (struct delayed_write){ fds[1], 5000000 };
	rd[fds[0] / 64] |= 1ULL << (fds[0] % 64);
	th = thread_create(write_later, &d, &THREAD_ATTR(.cpu = (int)(ncpus_online - 1)));
	KCHECK_EQ(t, sys_pselect6(fds[0] + 1, (long)rd, 0, 0, (long)&ts, 0), 1);
	KCHECK(t, ts.tv_sec >= 5 && ts.tv_sec < 10);    /* the time left */
	KCHECK_EQ(t, thread_join(th), 0);
	close_pipe(fds);
}

/* --- no leaks --- */

static void pipes_and_eventfds_round(void)
{
	uint64_t v = 1;
	int fds[2];

	if (sys_pipe2((long)fds, 0) == 0) {
		fd_write(fds[1], "data", 4);
		close_pipe(fds);
	}
	int fd = (int)sys_eventfd2(0, 0);
	if (fd >= 0) {
		fd_write(fd, &v, sizeof(v));
		fd_close(fd);
	}
}

KTEST(pipe_and_eventfd_do_not_leak)
{
	size_t before;

	pipes_and_eventfds_round();             /* first-use allocations */
	synchronize_rcu();
	thread_sleep_ns(10000000);              /* its files freed by the RCU worker */
	before = malloc_in_use_bytes();
	for (int i = 0; i < 200; i++)
		pipes_and_eventfds_round();
	KCHECK(t, heap_settled(before) <= before);
}
