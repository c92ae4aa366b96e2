/* tests/posix/signals.c - signals sent to oneself and to another thread,
 * masks, fault signals caught by handlers, and the default action. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/select.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static sigjmp_buf jb;
static volatile int spinning = 1;

static void on_usr1(int sig) { got = sig; }
static void on_usr2(int sig) { (void)sig; spinning = 0; }
static void on_fault(int sig) { siglongjmp(jb, sig); }

static void *spinner(void *arg)
{
	(void)arg;
	while (spinning)
		;
	return NULL;
}

static void *kick(void *arg)
{
	usleep(20000);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

static int restart_pipe[2];

static void *kick_then_write(void *arg)
{
	usleep(20000);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	usleep(20000);
	write(restart_pipe[1], "r", 1);
	return NULL;
}

static void *sleeper(void *arg)
{
	(void)arg;
	struct timespec ts = { 10, 0 };
	int r = nanosleep(&ts, &ts);
	printf("sleeper: nanosleep %d %s, time left > 1 s: %d\n", r, strerror(errno), ts.tv_sec >= 1);
	return NULL;
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	printf("raise: %d\n", got);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	got = 0;
	kill(getpid(), SIGUSR1);
	sigset_t pending;
	sigpending(&pending);
	printf("blocked: delivered %d, pending %d\n", got, sigismember(&pending, SIGUSR1));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("unblocked: delivered %d\n", got);

	signal(SIGSEGV, on_fault);
	signal(SIGFPE, on_fault);
	signal(SIGILL, on_fault);
	int r = sigsetjmp(jb, 1);
	if (!r)
		*(volatile int *)8 = 1;
	printf("null write: signal %d\n", r);
	volatile int zero = 0, hundred = 100;
	r = sigsetjmp(jb, 1);
	if (!r)
		printf("%d\n", hundred / zero);
	printf("divide by zero: signal %d\n", r);
	r = sigsetjmp(jb, 1);
	if (!r)
		__builtin_trap();
	printf("invalid instruction: signal %d\n", r);

	pthread_t t;
	signal(SIGUSR2, on_usr2);
	pthread_create(&t, NULL, spinner, NULL);
	usleep(20000);
	pthread_kill(t, SIGUSR2);
	pthread_join(t, NULL);
	printf("busy thread interrupted\n");
	pthread_create(&t, NULL, sleeper, NULL);
	usleep(20000);
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);

	/* A wait interrupted by a signal from another thread: EINTR. */
	pthread_t waker;
	pthread_t me = pthread_self();
	got = 0;
	pthread_create(&waker, NULL, kick, &me);
	struct pollfd none = { .fd = -1 };
	int pr = poll(&none, 1, 5000);
	printf("poll interrupted: %d %s, handler ran: %d\n", pr, pr < 0 ? strerror(errno) : "", got);
	pthread_join(waker, NULL);

	/* A read blocked on an empty pipe: a handler without SA_RESTART ends
	 * it with EINTR; with SA_RESTART the read goes on and gets the byte
	 * written after the signal. */
	char byte = 0;
	pipe(restart_pipe);
	struct sigaction plain = { .sa_handler = on_usr1 }, restarting = plain;
	restarting.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &plain, NULL);
	got = 0;
	pthread_create(&waker, NULL, kick, &me);
	ssize_t rr = read(restart_pipe[0], &byte, 1);
	printf("pipe read, no SA_RESTART: %zd %s, handler ran: %d\n", rr,
	       rr < 0 ? strerror(errno) : "", got);
	pthread_join(waker, NULL);
	sigaction(SIGUSR1, &restarting, NULL);
	got = 0;
	pthread_create(&waker, NULL, kick_then_write, &me);
	rr = read(restart_pipe[0], &byte, 1);
	printf("pipe read, SA_RESTART: %zd '%c', handler ran: %d\n", rr, byte, got);
	pthread_join(waker, NULL);

	/* pselect's mask: SIGUSR1 blocked outside, pending, let in only while
	 * pselect waits, so the handler runs there. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	got = 0;
	raise(SIGUSR1);
	sigset_t during;
	sigemptyset(&during);
	struct timespec five = { 5, 0 };
	pr = pselect(0, NULL, NULL, NULL, &five, &during);
	printf("pselect: %d %s, handler ran: %d\n", pr, pr < 0 ? strerror(errno) : "", got);
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	struct sigaction sa;
	sigaction(SIGUSR1, NULL, &sa);
	printf("handler kept: %d\n", sa.sa_handler == on_usr1);
	fflush(stdout);
	raise(SIGTERM);                         /* default action: the end, 128 + 15 */
	printf("not reached\n");
	return 0;
}
