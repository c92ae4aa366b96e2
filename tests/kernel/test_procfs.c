/*
 * tests/kernel/test_procfs.c - /proc/self and /proc/mounts through the
 * system calls: maps against mappings made here (anonymous, split by
 * mprotect, 200 of them, a shared file at an offset, a heap block, the
 * image) and while another thread changes them, status,
 * stat and statm against the process (a thread started, a signal blocked
 * and one ignored), fd/ against descriptors opened here, exe, comm,
 * environ, and the mount table against stat.
 *
 * The test image is linked in (no exec=): exe links to argv[0].
 */
#include "tests/kernel/fdio.h"
#include "fs/fs.h"
#include "libc/abi.h"                           /* before core/kernel.h */
#include "core/ktest.h"
#include "core/cmdline.h"
#include "core/mm.h"
#include "libc/libc.h"
#include "sched/sched.h"

long sys_write(long, long, long);
long sys_pread64(long, long, long, long);
long sys_mmap(long, long, long, long, long, long);
long sys_mprotect(long, long, long);
long sys_munmap(long, long);
long sys_fstat(long, long);
long sys_stat(long, long);
long sys_lstat(long, long);
long sys_readlink(long, long, long);
long sys_getdents64(long, long, long);
long sys_mkdir(long, long);
long sys_rmdir(long);
long sys_unlink(long);
long sys_rename(long, long);
long sys_fcntl(long, long, long);
long sys_getpid(void);
long sys_rt_sigprocmask(long, long, long, long);
long sys_rt_sigaction(long, long, long, long);

/* musl's, as an application calls them (pthread_t is a pointer). */
int pthread_create(unsigned long *th, const void *attr, void *(*fn)(void *), void *arg);
int pthread_join(unsigned long th, void **ret);

#define L(x) ((long)(x))
#define BUF_SIZE (64 * 1024)
#define SIGUSR1 10
#define SIGUSR2 12
#define SIG_BLOCK 0
#define SIG_SETMASK 2

/* The line of text starting with prefix, or NULL. */
static const char *find_line(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *s = text; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
		if (strncmp(s, prefix, n) == 0)
			return s;
	return NULL;
}

static bool strstr_in(const char *s, const char *sub)
{
	size_t n = strlen(sub);

	for (; *s; s++)
		if (strncmp(s, sub, n) == 0)
			return true;
	return false;
}

/* "Key:\t123 ..." in status: the number, or -1. */
static long status_value(const char *text, const char *key)
{
	const char *s = find_line(text, key);
	long v = 0;

	if (!s)
		return -1;
	for (s += strlen(key); *s == ' ' || *s == '\t'; s++)
		;
	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}

static uint64_t hex_value(const char *text, const char *key)
{
	const char *s = find_line(text, key);
	uint64_t v = 0;

	if (!s)
		return ~0ULL;
	for (s += strlen(key); *s == '\t'; s++)
		;
	for (; (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'); s++)
		v = v * 16 + (uint64_t)(*s <= '9' ? *s - '0' : *s - 'a' + 10);
	return v;
}

static long readlink_str(const char *path, char *buf, size_t size)
{
	long n = sys_readlink(L(path), L(buf), (long)size - 1);

	buf[n > 0 ? n : 0] = 0;
	return n;
}

static const char *app_name(void)
{
	return kernel_cmdline()->argv[0];
}

/* A hex number at *s, moving past it. */
static uint64_t hex(const char **s)
{
	uint64_t v = 0;

	for (;; (*s)++) {
		char c = **s;

		if (c >= '0' && c <= '9')
			v = v * 16 + (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uint64_t)(c - 'a' + 10);
		else
			return v;
	}
}

/* The maps line for [start, end) with these permissions, or NULL. */
static const char *maps_find(const char *maps, uint64_t start, uint64_t end, const char *perms)
{
	char prefix[64];

	ksnprintf(prefix, sizeof(prefix), "%08lx-%08lx %s ", start, end, perms);
	return find_line(maps, prefix);
}

/* The maps line whose range holds addr, or NULL. */
static const char *maps_holding(const char *maps, uint64_t addr)
{
	for (const char *s = maps; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL) {
		const char *e = s;
		uint64_t lo = hex(&e), hi;

		e++;
		hi = hex(&e);
		if (lo <= addr && addr < hi)
			return s;
	}
	return NULL;
}

/* The rest of a maps line from its name column ("" when it has none). */
static void maps_name(const char *line, char *name, size_t size)
{
	const char *nl = strchr(line, '\n');
	size_t len = nl ? (size_t)(nl - line) : strlen(line);

	name[0] = 0;
	if (len > 73)
		ksnprintf(name, size, "%.*s", (int)(len - 73), line + 73);
}

/* Every line well formed, in address order, none overlapping. */
static bool maps_sorted(const char *maps, int *lines)
{
	uint64_t prev_end = 0;

	*lines = 0;
	for (const char *s = maps; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL) {
		const char *e = s;
		uint64_t lo = hex(&e), hi;

		if (*e++ != '-')
			return false;
		hi = hex(&e);
		if (*e != ' ' || lo >= hi || lo < prev_end || (lo | hi) & 4095)
			return false;
		if (e[4] != 'p' && e[4] != 's')
			return false;
		prev_end = hi;
		(*lines)++;
	}
	return true;
}

KTEST(procfs_maps_anonymous_and_split)
{
	char *maps = malloc(BUF_SIZE);
	long a = sys_mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int lines;

	KCHECK(t, maps && a > 0);
	if (!maps || a <= 0)
		goto out;
	KCHECK(t, read_path("/proc/self/maps", maps, BUF_SIZE) > 0);
	const char *l = maps_holding(maps, (uint64_t)a);
	KCHECK(t, l && strncmp(strchr(l, ' '), " rw-p 00000000 00:00 0 ", 23) == 0);
	KCHECK_EQ(t, sys_mprotect(a + 4096, 4096, PROT_READ | PROT_EXEC), 0);
	KCHECK(t, read_path("/proc/self/maps", maps, BUF_SIZE) > 0);
	KCHECK(t, maps_find(maps, a + 4096, a + 2 * 4096, "r-xp") != NULL);
	l = maps_holding(maps, (uint64_t)a + 2 * 4096);
	KCHECK(t, l && strncmp(strchr(l, ' '), " rw-p ", 6) == 0);
	KCHECK(t, maps_sorted(maps, &lines));
	KCHECK_EQ(t, sys_munmap(a, 3 * 4096), 0);
	KCHECK(t, read_path("/proc/self/maps", maps, BUF_SIZE) > 0);
	KCHECK(t, maps_holding(maps, (uint64_t)a + 4096) == NULL);
out:
	free(maps);
}

/* 200 lines, more than the first page the text is made in. */
KTEST(procfs_maps_longer_than_a_page)
{
	char *maps = malloc(BUF_SIZE);
	long a = sys_mmap(0, 200 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int lines, found = 0;

	KCHECK(t, maps && a > 0);
	if (!maps || a <= 0)
		goto out;
	for (int i = 1; i < 200; i += 2)
		KCHECK_EQ(t, sys_mprotect(a + i * 4096, 4096, PROT_READ), 0);
	KCHECK(t, read_path("/proc/self/maps", maps, BUF_SIZE) > 200 * 50);
	KCHECK(t, maps_sorted(maps, &lines));
	for (int i = 0; i < 200; i++)
		found += maps_find(maps, a + i * 4096, a + (i + 1) * 4096,
				   i % 2 ? "r--p" : "rw-p") != NULL;
	KCHECK_EQ(t, found, 200);
	KCHECK_EQ(t, sys_munmap(a, 200 * 4096), 0);
out:
	free(maps);
}

KTEST(procfs_maps_shared_file_heap_image)
{
	static char page[4096];
	char *maps = malloc(BUF_SIZE), *block = malloc(256 * 1024), name[128];
	long fd = sys_open(L("/tmp/procfs_map"), O_CREAT | O_RDWR, 0644), m;
	struct stat st;

	KCHECK(t, maps && block && fd >= 0);
	if (!maps || !block || fd < 0)
		goto out;
	for (int i = 0; i < 3; i++)
		KCHECK_EQ(t, sys_write(fd, L(page), sizeof(page)), sizeof(page));
	KCHECK_EQ(t, sys_fstat(fd, L(&st)), 0);
	m = sys_mmap(0, 2 * 4096, PROT_READ, MAP_SHARED, fd, 4096);
	KCHECK(t, m > 0);
	KCHECK(t, read_path("/proc/self/maps", maps, BUF_SIZE) > 0);
	const char *l = maps_find(maps, m, m + 2 * 4096, "r--s");
	char want[64];
	ksnprintf(want, sizeof(want), "00001000 %02x:%02x %lu ", (unsigned int)(st.st_dev >> 8),
		  (unsigned int)(st.st_dev & 0xff), st.st_ino);
	KCHECK(t, l && strncmp(strchr(l, ' ') + 6, want, strlen(want)) == 0);
	if (l) {
		maps_name(l, name, sizeof(name));
		KCHECK(t, strcmp(name, "/tmp/procfs_map") == 0);
	}
	KCHECK_EQ(t, sys_unlink(L("/tmp/procfs_map")), 0);
	KCHECK(t, read_path("/proc/self/maps", maps, BUF_SIZE) > 0);
	l = maps_find(maps, m, m + 2 * 4096, "r--s");
	if (l) {
		maps_name(l, name, sizeof(name));
		KCHECK(t, strcmp(name, "/tmp/procfs_map (deleted)") == 0);
	}
	/* A mapped heap block, and the image this code runs in. */
	l = maps_holding(maps, (uint64_t)block);
	KCHECK(t, l != NULL);
	if (l) {
		maps_name(l, name, sizeof(name));
		KCHECK(t, strcmp(name, "[heap]") == 0);
	}
	l = maps_holding(maps, (uint64_t)&find_line);
	KCHECK(t, l && strncmp(strchr(l, ' '), " r-xp ", 6) == 0);
	if (l) {
		maps_name(l, name, sizeof(name));
		KCHECK(t, strcmp(name, app_name()) == 0);
	}
	l = maps_holding(maps, (uint64_t)page);
	KCHECK(t, l && strncmp(strchr(l, ' '), " rw-p ", 6) == 0);
	KCHECK(t, m <= 0 || sys_munmap(m, 2 * 4096) == 0);
out:
	if (fd >= 0) {
		sys_close(fd);
		sys_unlink(L("/tmp/procfs_map"));
	}
	free(block);
	free(maps);
}

/* --- status, stat, statm --- */

static volatile int thread_go;

static void *waiting_thread(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&thread_go, __ATOMIC_ACQUIRE))
		thread_sleep_ns(1000000);
	return NULL;
}

/* Threads: in status after up to a second (a joined thread leaves the
 * count just after it wakes its joiner). */
static long threads_settled(char *buf, long want)
{
	long n = -1;

	for (int i = 0; i < 1000; i++) {
		if (read_path("/proc/self/status", buf, BUF_SIZE) <= 0)
			return -1;
		n = status_value(buf, "Threads:");
		if (n == want)
			break;
		thread_sleep_ns(1000000);
	}
	return n;
}

KTEST(procfs_status_ids_threads)
{
	char *buf = malloc(BUF_SIZE), name[32];
	struct libc_process p;
	unsigned long th;
	long threads;

	KCHECK(t, buf != NULL);
	if (!buf)
		return;
	KCHECK(t, read_path("/proc/self/status", buf, BUF_SIZE) > 0);
	ksnprintf(name, sizeof(name), "Name:\t%.15s\n", app_name());
	KCHECK(t, strncmp(buf, name, strlen(name)) == 0);
	KCHECK_EQ(t, status_value(buf, "Pid:"), sys_getpid());
	KCHECK_EQ(t, status_value(buf, "Tgid:"), sys_getpid());
	KCHECK_EQ(t, status_value(buf, "PPid:"), 0);
	KCHECK(t, find_line(buf, "State:\tR (running)\n") && find_line(buf, "Uid:\t0\t0\t0\t0\n"));
	KCHECK(t, status_value(buf, "VmRSS:") > 0 && status_value(buf, "VmSize:") > 0);
	threads = status_value(buf, "Threads:");
	libc_process_get(&p);
	KCHECK(t, threads >= 1);
	KCHECK_EQ(t, threads, p.threads);
	thread_go = 0;
	KCHECK_EQ(t, pthread_create(&th, NULL, waiting_thread, NULL), 0);
	KCHECK_EQ(t, threads_settled(buf, threads + 1), threads + 1);
	__atomic_store_n(&thread_go, 1, __ATOMIC_RELEASE);
	KCHECK_EQ(t, pthread_join(th, NULL), 0);
	KCHECK_EQ(t, threads_settled(buf, threads), threads);
	free(buf);
}

/* Linux's struct sigaction for rt_sigaction(2). */
struct ksigaction {
	unsigned long handler, flags, restorer;
	uint64_t mask;
};

KTEST(procfs_status_signals)
{
	char *buf = malloc(BUF_SIZE);
	uint64_t set = 1ULL << (SIGUSR1 - 1), old;
	struct ksigaction ign = { .handler = 1 /* SIG_IGN */ }, prev;

	KCHECK(t, buf != NULL);
	if (!buf)
		return;
	KCHECK_EQ(t, sys_rt_sigprocmask(SIG_BLOCK, L(&set), L(&old), 8), 0);
	KCHECK_EQ(t, sys_rt_sigaction(SIGUSR2, L(&ign), L(&prev), 8), 0);
	KCHECK(t, read_path("/proc/self/status", buf, BUF_SIZE) > 0);
	KCHECK_EQ(t, hex_value(buf, "SigBlk:") & set, set);
	KCHECK_EQ(t, hex_value(buf, "SigIgn:") & (1ULL << (SIGUSR2 - 1)), 1ULL << (SIGUSR2 - 1));
	KCHECK_EQ(t, hex_value(buf, "SigCgt:") & (1ULL << (SIGUSR2 - 1)), 0);
	KCHECK_EQ(t, sys_rt_sigaction(SIGUSR2, L(&prev), 0, 8), 0);
	KCHECK_EQ(t, sys_rt_sigprocmask(SIG_SETMASK, L(&old), 0, 8), 0);
	KCHECK(t, read_path("/proc/self/status", buf, BUF_SIZE) > 0);
	KCHECK_EQ(t, hex_value(buf, "SigBlk:") & set, old & set);
	KCHECK_EQ(t, hex_value(buf, "SigIgn:") & (1ULL << (SIGUSR2 - 1)), 0);
	free(buf);
}

/* The fields of a stat line, comm (in parentheses) as one. */
static int stat_fields(char *line, char *field[60])
{
	char *s = line, *close = NULL;
	int n = 0;

	for (char *p = line; *p; p++)
		if (*p == ')')
			close = p;
	while (*s && *s != '\n' && n < 60) {
		field[n++] = s;
		char *end = (n == 2 && close) ? close + 1 : s;
		while (*end && *end != ' ' && *end != '\n')
			end++;
		if (!*end)
			break;
		*end = 0;
		s = end + 1;
	}
	return n;
}

static long number(const char *s)
{
	long v = 0, sign = *s == '-' ? -1 : 1;

	for (s += sign < 0; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (*s - '0');
	return sign * v;
}

KTEST(procfs_stat_and_statm)
{
	char *buf = malloc(BUF_SIZE), *status = malloc(BUF_SIZE), *field[60], comm[32];
	long statm[8];
	int n;

	KCHECK(t, buf && status);
	if (!buf || !status)
		goto out;
	KCHECK(t, read_path("/proc/self/status", status, BUF_SIZE) > 0);
	KCHECK(t, read_path("/proc/self/stat", buf, BUF_SIZE) > 0);
	KCHECK(t, buf[strlen(buf) - 1] == '\n');
	n = stat_fields(buf, field);
	KCHECK_EQ(t, n, 52);
	if (n != 52)
		goto out;
	ksnprintf(comm, sizeof(comm), "(%.15s)", app_name());
	KCHECK_EQ(t, number(field[0]), sys_getpid());
	KCHECK(t, strcmp(field[1], comm) == 0);
	KCHECK(t, strcmp(field[2], "R") == 0);
	KCHECK_EQ(t, number(field[19]), status_value(status, "Threads:"));
	KCHECK(t, number(field[22]) > 0);                       /* vsize */
	KCHECK_EQ(t, number(field[37]), 17);                    /* exit_signal */
	KCHECK(t, read_path("/proc/self/statm", buf, BUF_SIZE) > 0);
	const char *s = buf;
	for (n = 0; n < 8 && *s && *s != '\n'; n++) {
		statm[n] = number(s);
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s == ' ')
			s++;
	}
	KCHECK_EQ(t, n, 7);
	KCHECK(t, statm[0] > 0 && statm[1] > 0);
	/* The same mappings: VmSize in kB is statm's size in pages. */
	KCHECK_EQ(t, statm[0] * 4, status_value(status, "VmSize:"));
out:
	free(buf);
	free(status);
}

/* --- fd/ --- */

static long fd_link_of(long fd, char *buf, size_t size)
{
	char path[32];

	ksnprintf(path, sizeof(path), "/proc/self/fd/%ld", fd);
	return readlink_str(path, buf, size);
}

/* Whether getdents64 of /proc/self/fd, a few entries a call, lists fd
 * (as a link).  The directory's own descriptor is moved out of the way of
 * one just closed. */
static bool fd_listed(long fd)
{
	char buf[64], want[16];
	long low = sys_open(L("/proc/self/fd"), O_RDONLY | O_DIRECTORY, 0), n;
	long dir = low >= 0 ? sys_fcntl(low, F_DUPFD, 500) : low;
	bool found = false;

	if (low >= 0)
		sys_close(low);
	ksnprintf(want, sizeof(want), "%ld", fd);
	while (dir >= 0 && (n = sys_getdents64(dir, L(buf), sizeof(buf))) > 0) {
		for (long off = 0; off < n; ) {
			struct linux_dirent64 *d = (void *)(buf + off);

			if (strcmp(d->d_name, want) == 0 && d->d_type == DT_LNK)
				found = true;
			off += d->d_reclen;
		}
	}
	if (dir >= 0)
		sys_close(dir);
	return found;
}

KTEST(procfs_fd_links)
{
	char link[256], want[64];
	long null = sys_open(L("/dev/null"), O_RDONLY, 0), dir, file, ev;
	int p[2] = { -1, -1 };
	struct stat st, a, b;

	KCHECK(t, null >= 0);
	KCHECK_EQ(t, fd_link_of(null, link, sizeof(link)), 9);
	KCHECK(t, strcmp(link, "/dev/null") == 0);
	KCHECK_EQ(t, sys_stat(L("/dev/null"), L(&a)), 0);
	ksnprintf(want, sizeof(want), "/proc/self/fd/%ld", null);
	KCHECK_EQ(t, sys_stat(L(want), L(&b)), 0);              /* followed */
	KCHECK(t, a.st_ino == b.st_ino && a.st_dev == b.st_dev && S_ISCHR(b.st_mode));
	KCHECK_EQ(t, sys_lstat(L(want), L(&b)), 0);
	KCHECK(t, S_ISLNK(b.st_mode));
	KCHECK(t, fd_listed(null));
	KCHECK_EQ(t, fd_link_of(0, link, sizeof(link)), 12);
	KCHECK(t, strcmp(link, "/dev/console") == 0);

	KCHECK_EQ(t, sys_mkdir(L("/tmp/procfs_dir"), 0755), 0);
	dir = sys_open(L("/tmp/procfs_dir/../procfs_dir"), O_RDONLY | O_DIRECTORY, 0);
	KCHECK(t, dir >= 0);
	fd_link_of(dir, link, sizeof(link));
	KCHECK(t, strcmp(link, "/tmp/procfs_dir") == 0);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/procfs_dir")), 0);
	fd_link_of(dir, link, sizeof(link));
	KCHECK(t, strcmp(link, "/tmp/procfs_dir (deleted)") == 0);
	sys_close(dir);

	/* A regular file: its path, the renamed one after a rename, and
	 * " (deleted)" once unlinked. */
	file = sys_open(L("/tmp/procfs_file"), O_CREAT | O_RDWR, 0644);
	KCHECK(t, file >= 0 && sys_fstat(file, L(&st)) == 0);
	fd_link_of(file, link, sizeof(link));
	KCHECK(t, strcmp(link, "/tmp/procfs_file") == 0);
	KCHECK_EQ(t, sys_rename(L("/tmp/procfs_file"), L("/tmp/procfs_file2")), 0);
	fd_link_of(file, link, sizeof(link));
	KCHECK(t, strcmp(link, "/tmp/procfs_file2") == 0);
	sys_unlink(L("/tmp/procfs_file2"));
	fd_link_of(file, link, sizeof(link));
	KCHECK(t, strcmp(link, "/tmp/procfs_file2 (deleted)") == 0);
	/* Following the link opens the file itself, deleted or not; O_CREAT
	 * makes no "... (deleted)" file. */
	ksnprintf(want, sizeof(want), "/proc/self/fd/%ld", file);
	long again = sys_open(L(want), O_RDWR | O_CREAT, 0644);
	struct stat st2;
	KCHECK(t, again >= 0 && sys_fstat(again, L(&st2)) == 0 && st2.st_ino == st.st_ino);
	KCHECK_EQ(t, sys_write(again, L("via fd link"), 11), 11);
	char back[16] = "";
	KCHECK_EQ(t, sys_pread64(file, L(back), 11, 0), 11);
	KCHECK(t, memcmp(back, "via fd link", 11) == 0);
	KCHECK_EQ(t, sys_stat(L("/tmp/procfs_file2 (deleted)"), L(&st2)), -ENOENT);
	sys_close(again);


	KCHECK_EQ(t, sys_pipe2(L(p), 0), 0);
	fd_link_of(p[0], link, sizeof(link));
	KCHECK(t, strncmp(link, "pipe:[", 6) == 0 && link[strlen(link) - 1] == ']');
	fd_link_of(p[1], want, sizeof(want));
	KCHECK(t, strcmp(link, want) == 0);                     /* one pipe */
	ev = sys_eventfd2(0, 0);
	fd_link_of(ev, link, sizeof(link));
	KCHECK(t, strcmp(link, "anon_inode:[eventfd]") == 0);
	KCHECK(t, fd_listed(p[0]) && fd_listed(p[1]) && fd_listed(ev) && fd_listed(file));

	sys_close(file);
	KCHECK(t, !fd_listed(file));
	KCHECK_EQ(t, fd_link_of(file, link, sizeof(link)), -ENOENT);
	KCHECK_EQ(t, readlink_str("/proc/self/fd/01", link, sizeof(link)), -ENOENT);
	KCHECK_EQ(t, readlink_str("/proc/self/fd/x", link, sizeof(link)), -ENOENT);
	KCHECK_EQ(t, sys_open(L("/proc/self/fd/9"), O_CREAT | O_RDWR, 0644), -EACCES);
	sys_close(ev);
	sys_close(p[0]);
	sys_close(p[1]);
	sys_close(null);
}

/* --- exe, comm, cmdline, environ, mounts --- */

KTEST(procfs_exe_comm_environ)
{
	char *buf = malloc(BUF_SIZE), link[256], comm[32];
	const char **env;
	int n = libc_environment(&env);
	long len, want = 0;

	KCHECK(t, buf != NULL);
	if (!buf)
		return;
	KCHECK_EQ(t, readlink_str("/proc/self/exe", link, sizeof(link)), (long)strlen(app_name()));
	KCHECK(t, strcmp(link, app_name()) == 0);               /* linked in: argv[0] */
	ksnprintf(comm, sizeof(comm), "%.15s\n", app_name());
	KCHECK(t, read_path("/proc/self/comm", buf, BUF_SIZE) > 0 && strcmp(buf, comm) == 0);
	len = read_path("/proc/self/cmdline", buf, BUF_SIZE);
	KCHECK(t, len > 0 && strcmp(buf, app_name()) == 0);
	len = read_path("/proc/self/environ", buf, BUF_SIZE);
	for (int i = 0; i < n; i++) {
		KCHECK(t, want < len && strcmp(buf + want, env[i]) == 0);
		want += (long)strlen(env[i]) + 1;
	}
	KCHECK_EQ(t, len, want);
	free(buf);
}

/* Each mount point is where its line says a filesystem starts: another
 * device than its parent's. */
KTEST(procfs_mounts)
{
	char *buf = malloc(BUF_SIZE), *self = malloc(BUF_SIZE);
	const char *points[] = { "/", "/dev", "/proc", "/sys" };
	struct stat st, up;
	char line[64];

	KCHECK(t, buf && self);
	if (!buf || !self)
		goto out;
	KCHECK(t, read_path("/proc/mounts", buf, BUF_SIZE) > 0);
	KCHECK(t, read_path("/proc/self/mounts", self, BUF_SIZE) > 0 && strcmp(buf, self) == 0);
	KCHECK(t, find_line(buf, "proc /proc proc ") && find_line(buf, "sysfs /sys sysfs "));
	int lines = 0;
	for (const char *s = buf; *s; s++)
		lines += *s == '\n';
	KCHECK_EQ(t, lines, (int)ARRAY_SIZE(points));
	for (size_t i = 0; i < ARRAY_SIZE(points); i++) {
		ksnprintf(line, sizeof(line), " %s ", points[i]);
		KCHECK(t, strstr_in(buf, line));
		ksnprintf(line, sizeof(line), "%s/..", points[i]);
		KCHECK_EQ(t, sys_stat(L(points[i]), L(&st)), 0);
		KCHECK_EQ(t, sys_stat(L(line), L(&up)), 0);
		KCHECK(t, i == 0 ? st.st_dev == up.st_dev : st.st_dev != up.st_dev);
	}
	KCHECK_EQ(t, sys_stat(L("/tmp"), L(&st)), 0);          /* not a mount */
	KCHECK_EQ(t, sys_stat(L("/"), L(&up)), 0);
	KCHECK_EQ(t, st.st_dev, up.st_dev);
out:
	free(buf);
	free(self);
}

/* --- maps while the mappings change --- */

static volatile int churn_stop;

static void churn(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&churn_stop, __ATOMIC_ACQUIRE)) {
		long a = vm_mmap(0, 5 * 4096, VM_PROT_READ | VM_PROT_WRITE,
				 VM_MAP_PRIVATE | VM_MAP_ANONYMOUS);
		if (a > 0) {
			vm_mprotect((uintptr_t)a + 4096, 4096, VM_PROT_READ);
			vm_munmap((uintptr_t)a, 5 * 4096);
		}
		thread_yield();
	}
}

KTEST(procfs_maps_while_mappings_change)
{
	char *maps = malloc(BUF_SIZE);
	struct thread *th;
	int lines, bad = 0;

	KCHECK(t, maps != NULL);
	if (!maps)
		return;
	churn_stop = 0;
	th = thread_create(churn, NULL,
			   &THREAD_ATTR(.name = "procfs-churn", .cpu = (int)(1 % ncpus_online)));
	KCHECK(t, !IS_ERR(th));
	for (int i = 0; i < 200 && !IS_ERR(th); i++) {
		if (read_path("/proc/self/maps", maps, BUF_SIZE) <= 0 || !maps_sorted(maps, &lines))
			bad++;
	}
	__atomic_store_n(&churn_stop, 1, __ATOMIC_RELEASE);
	if (!IS_ERR(th))
		thread_join(th);
	KCHECK_EQ(t, bad, 0);
	free(maps);
}

/* --- /proc/slabinfo and /proc/vmstat (fs/procfs.c) --- */

/* kmalloc-64's objects in use follow the heap; thp_fault_alloc counts a
 * 2 MiB page populated by a touch. */
KTEST(procfs_slabinfo_and_vmstat)
{
	static char buf[8192];
	enum { N = 200 };
	void *p[N];
	long before, after, thp0, thp1;
	long m;

	KCHECK(t, read_path("/proc/slabinfo", buf, sizeof(buf)) > 0);
	KCHECK(t, find_line(buf, "slabinfo - version: 2.1") != NULL);
	before = status_value(buf, "kmalloc-64 ");
	KCHECK(t, before >= 0);
	for (int i = 0; i < N; i++)
		p[i] = malloc(64);
	KCHECK(t, read_path("/proc/slabinfo", buf, sizeof(buf)) > 0);
	after = status_value(buf, "kmalloc-64 ");
	for (int i = 0; i < N; i++)
		free(p[i]);
	KCHECK(t, after >= before + N);
	KCHECK(t, find_line(buf, "large-blocks ") != NULL);

	KCHECK(t, read_path("/proc/vmstat", buf, sizeof(buf)) > 0);
	thp0 = status_value(buf, "thp_fault_alloc");
	KCHECK(t, thp0 >= 0 && status_value(buf, "pgfault") >= 0);
	m = vm_mmap(0, 4 << 20, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS);
	KCHECK(t, m > 0);
	if (m <= 0)
		return;
	*(volatile char *)m = 1;                /* 2 MiB-aligned: a huge page */
	KCHECK(t, read_path("/proc/vmstat", buf, sizeof(buf)) > 0);
	thp1 = status_value(buf, "thp_fault_alloc");
	KCHECK_EQ(t, thp1, thp0 + 1);
	vm_munmap((uintptr_t)m, 4 << 20);
}
