/* tests/posix/sigstack.c - signals and stacks that are not the thread's
 * usual one: handlers on a demand-paged sigaltstack (in a thread and in
 * main), siglongjmp out of a fault handler again and again, a thread on a
 * stack from malloc taking page faults, and where signals go: to a thread
 * just created, and a process-directed one that the caller blocks. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t got, got2;

static void on_alt(int sig)
{
	char buf[512];

	memset(buf, 1, sizeof(buf));            /* stack in use on the altstack */
	got = sig + buf[100] - 1;
}

static void *altstack_user(void *name)
{
	stack_t ss = { .ss_size = 64 * 1024 };

	ss.ss_sp = mmap(NULL, ss.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sigaltstack(&ss, NULL))
		perror("sigaltstack");
	struct sigaction sa = { .sa_handler = on_alt, .sa_flags = SA_ONSTACK };
	sigaction(SIGUSR1, &sa, NULL);
	got = 0;
	raise(SIGUSR1);
	printf("%s: handler on the altstack: %d\n", (char *)name, got);
	return NULL;
}

static sigjmp_buf jb;
static void on_segv(int sig) { siglongjmp(jb, sig); }

static void *longjumper(void *arg)
{
	int caught = 0;

	(void)arg;
	for (int i = 0; i < 50; i++) {
		if (sigsetjmp(jb, 1) == 0)
			*(volatile int *)8 = 1;
		else
			caught++;
	}
	return (void *)(long)caught;
}

static void *toucher(void *arg)
{
	char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	p[12345] = 7;                           /* a page fault on a malloc'd stack */
	return (void *)(long)p[12345];
}

static void on_usr(int sig) { if (sig == SIGUSR1) got++; else got2++; }
static void *wait_usr1(void *arg) { (void)arg; while (!got) usleep(1000); return NULL; }
static void *wait_usr2(void *arg) { (void)arg; while (!got2) usleep(1000); return NULL; }

int main(void)
{
	pthread_t t;
	void *r;

	pthread_create(&t, NULL, altstack_user, "thread");
	pthread_join(t, NULL);
	altstack_user("main");

	struct sigaction sa = { .sa_handler = on_segv };
	sigaction(SIGSEGV, &sa, NULL);
	pthread_create(&t, NULL, longjumper, NULL);
	pthread_join(t, &r);
	printf("siglongjmp out of 50 faults: %ld caught\n", (long)r);

	pthread_attr_t a;
	size_t size = 256 * 1024;
	void *stack = malloc(size);
	pthread_attr_init(&a);
	pthread_attr_setstack(&a, stack, size);
	pthread_create(&t, &a, toucher, NULL);
	pthread_join(t, &r);
	printf("thread on a malloc'd stack, page fault served: %ld\n", (long)r);

	signal(SIGUSR1, on_usr);
	signal(SIGUSR2, on_usr);
	got = 0;
	pthread_create(&t, NULL, wait_usr1, NULL);
	int e = pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	printf("pthread_kill right after create: %s, delivered %d\n", e ? strerror(e) : "ok", got);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_create(&t, NULL, wait_usr2, NULL);      /* SIGUSR2 unblocked there */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR2);
	pthread_join(t, NULL);
	printf("kill, blocked in main: taken by the other thread: %d\n", got2);
	return 0;
}
