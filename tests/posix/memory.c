/* tests/posix/memory.c - the heap and mmap semantics. */
#define _GNU_SOURCE                     /* mremap */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static sigjmp_buf jb;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	printf("caught signal %d, code %s\n", sig, si->si_code == SEGV_ACCERR ? "ACCERR" : "MAPERR");
	siglongjmp(jb, 1);
}

int main(void)
{
	/* The heap. */
	char *p = malloc(10);
	strcpy(p, "123456789");
	p = realloc(p, 100000);
	printf("realloc kept: %s\n", p);
	p = realloc(p, 5);
	printf("shrunk: %.4s\n", p);
	free(p);
	int *z = calloc(1000, sizeof(int));
	long s = 0;
	for (int i = 0; i < 1000; i++)
		s += z[i];
	printf("calloc zero: %ld\n", s);
	free(z);
	void *al = aligned_alloc(4096, 8192);
	printf("aligned: %d\n", ((uintptr_t)al & 4095) == 0);
	free(al);
	errno = 0;
	printf("huge malloc: %p errno %d\n", malloc((size_t)1 << 60), errno);

	/* Anonymous mappings: zeroed, demand-paged, protected, unmapped. */
	size_t len = 8 << 20;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap ok: %d, zero: %d\n", m != MAP_FAILED, m[12345] == 0);
	memset(m, 0xab, len);
	printf("touched: %d\n", (unsigned char)m[len - 1]);

	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	sigaction(SIGSEGV, &sa, NULL);
	mprotect(m + 4096, 4096, PROT_READ);
	printf("read-only page still reads: %d\n", (unsigned char)m[4096]);
	if (!sigsetjmp(jb, 1))
		m[4096] = 1;
	munmap(m + 8192, 4096);
	if (!sigsetjmp(jb, 1))
		m[8192] = 1;
	printf("neighbours intact: %d %d\n", (unsigned char)m[4095], (unsigned char)m[12288]);

	char *r = mremap(m, len, 2 * len, MREMAP_MAYMOVE);
	printf("mremap keeps data: %d\n", r != MAP_FAILED && (unsigned char)r[len - 1] == 0xab);
	printf("munmap: %d\n", munmap(r, 2 * len));
	errno = 0;
	printf("bad munmap: %d errno %s\n", munmap((void *)1, 10), errno == EINVAL ? "EINVAL" : "?");
	void *fixed = mmap((void *)0x200000000000, 4096, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	errno = 0;
	void *again = mmap(fixed, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			   -1, 0);
	printf("fixed: %d, noreplace refused: %d %s\n", fixed == (void *)0x200000000000,
	       again == MAP_FAILED, errno == EEXIST ? "EEXIST" : "?");
	return 0;
}
