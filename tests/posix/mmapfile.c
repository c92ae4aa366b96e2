/* tests/posix/mmapfile.c - shared file mappings: stores through the mapping
 * are the file's data and the file's writes show through it, at once; pages
 * past the end of the file raise SIGBUS; truncation, mprotect, mremap and
 * unlink of a mapped file; a second mapping and a second thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096

static sigjmp_buf env;
static volatile int last_sig;

static void show(const char *what, long r)
{
	printf("%-34s %3ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

static void on_fault(int sig)
{
	last_sig = sig;
	siglongjmp(env, 1);
}

/* Reads (or writes) one byte at p: the byte, or the signal it raised. */
static const char *touch(volatile char *p, int write)
{
	static char out[32];

	last_sig = 0;
	if (sigsetjmp(env, 1) == 0) {
		if (write)
			*p = 'w';
		snprintf(out, sizeof(out), "byte %d", *p);
		return out;
	}
	return last_sig == SIGBUS ? "SIGBUS" : last_sig == SIGSEGV ? "SIGSEGV" : "signal";
}

static void *writer(void *arg)
{
	char *m = arg;

	memcpy(m + 200, "from a thread", 13);
	return NULL;
}

static void file_says(int fd, long off, int n)
{
	char buf[64] = "";

	long got = pread(fd, buf, n, off);
	printf("file at %ld: %ld '%.*s'\n", off, got, (int)(got > 0 ? got : 0), buf);
}

int main(void)
{
	char path[64];
	struct stat st;
	pthread_t th;

	signal(SIGBUS, on_fault);
	signal(SIGSEGV, on_fault);
	snprintf(path, sizeof(path), "/tmp/posix-mmapfile-%d", (int)getpid());
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	show("open", fd >= 0 ? 0 : -1);
	show("write", write(fd, "hello", 5));

	char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	show("mmap shared rw", m == MAP_FAILED ? -1 : 0);
	printf("mapping reads '%.5s'\n", m);
	m[0] = 'J';
	file_says(fd, 0, 5);
	show("pwrite", pwrite(fd, "E", 1, 1));
	printf("mapping reads '%.5s'\n", m);
	printf("past the end, same page: %s\n", touch(m + 100, 1));
	fstat(fd, &st);
	printf("size %lld\n", (long long)st.st_size);
	printf("next page, past the end: %s\n", touch(m + PAGE, 0));

	show("ftruncate to 2 pages", ftruncate(fd, 2 * PAGE));
	printf("next page now: %s\n", touch(m + PAGE + 5, 0));
	m[PAGE + 5] = 'Z';
	file_says(fd, PAGE + 5, 1);

	char *m2 = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
	show("mmap at offset", m2 == MAP_FAILED ? -1 : 0);
	printf("second mapping reads '%c'\n", m2[5]);
	m[PAGE + 6] = 'Y';
	printf("second mapping sees '%c'\n", m2[6]);
	printf("write to read-only mapping: %s\n", touch(m2, 1));

	pthread_create(&th, NULL, writer, m);
	pthread_join(th, NULL);
	file_says(fd, 200, 13);

	show("msync", msync(m, 2 * PAGE, MS_SYNC));
	show("madvise DONTNEED", madvise(m, PAGE, MADV_DONTNEED));
	printf("after DONTNEED '%.5s'\n", m);

	char *big = mremap(m, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
	show("mremap grow", big == MAP_FAILED ? -1 : 0);
	printf("grown mapping reads '%.5s'\n", big);
	show("ftruncate to 4 pages", ftruncate(fd, 4 * PAGE));
	big[3 * PAGE] = 'Q';
	file_says(fd, 3 * PAGE, 1);

	show("ftruncate to 1 byte", ftruncate(fd, 1));
	printf("first page after truncation: %s\n", touch(big, 0));
	printf("second page after truncation: %s\n", touch(big + PAGE, 0));
	printf("offset mapping after truncation: %s\n", touch(m2, 0));
	show("ftruncate to 1 page", ftruncate(fd, PAGE));
	printf("zeros come back: %s\n", touch(big + 10, 0));

	show("munmap", munmap(big, 4 * PAGE));
	show("munmap second", munmap(m2, PAGE));
	file_says(fd, 0, 1);

	/* A mapping outlives the name and the descriptor. */
	char *keep = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	show("mmap again", keep == MAP_FAILED ? -1 : 0);
	show("close", close(fd));
	show("unlink", unlink(path));
	strcpy(keep, "still here");
	printf("unlinked mapping reads '%s'\n", keep);
	show("munmap", munmap(keep, PAGE));

	/* Bad input. */
	fd = open("/tmp", O_RDONLY);
	show("mmap a directory", mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0);
	close(fd);
	snprintf(path, sizeof(path), "/tmp/posix-mmapfile-ro-%d", (int)getpid());
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	write(fd, "read only", 9);
	close(fd);
	fd = open(path, O_RDONLY);
	show("mmap rw of read-only fd", mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
	     == MAP_FAILED ? -1 : 0);
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	show("mmap r of read-only fd", ro == MAP_FAILED ? -1 : 0);
	printf("it reads '%.9s'\n", ro);
	show("mprotect it writable", mprotect(ro, PAGE, PROT_READ | PROT_WRITE));
	show("mmap unaligned offset", mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 100) == MAP_FAILED ? -1 : 0);
	show("mmap bad fd", mmap(NULL, PAGE, PROT_READ, MAP_SHARED, 999, 0) == MAP_FAILED ? -1 : 0);
	int p[2];
	pipe(p);
	show("mmap a pipe", mmap(NULL, PAGE, PROT_READ, MAP_SHARED, p[0], 0) == MAP_FAILED ? -1 : 0);
	munmap(ro, PAGE);
	close(fd);
	unlink(path);
	return 0;
}
