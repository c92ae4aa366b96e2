/* tests/posix/threads.c - pthreads: mutexes, condition variables, TLS,
 * thread-specific data with destructors, once, barriers, join values. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 4
#define ROUNDS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static __thread int tls_value = 7;
static pthread_key_t key;
static int destructed;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs;
static pthread_barrier_t barrier;

static void destructor(void *p)
{
	pthread_mutex_lock(&lock);
	destructed += *(int *)p;
	pthread_mutex_unlock(&lock);
	free(p);
}

static void init_once(void) { once_runs++; }

static void *worker(void *arg)
{
	long id = (long)arg;
	int *mine = malloc(sizeof(*mine));

	*mine = (int)id + 1;
	pthread_setspecific(key, mine);
	pthread_once(&once, init_once);
	tls_value += (int)id;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	pthread_barrier_wait(&barrier);
	return (void *)(long)tls_value;
}

/* Ping-pong on a condition variable: strict alternation. */
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, pongs;

static void *ponger(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&lock);
		while (turn != 1)
			pthread_cond_wait(&cv, &lock);
		turn = 0;
		pongs++;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

/* Deep recursion on a thread's own (demand-paged) stack, with system calls
 * at every level: each new stack page is first touched by the program or
 * by a system call made on it. */
static long deep(int depth)
{
	volatile char frame[1000];

	frame[0] = (char)depth;
	frame[999] = (char)getpid();
	if (depth == 0)
		return frame[0];
	return deep(depth - 1) + frame[0] + (frame[999] != 0);
}

static void *recurse(void *arg)
{
	return (void *)deep((int)(long)arg);
}

/* Cancellation at a blocking cancellation point: the thread ends there. */
static void *sleeps_long(void *arg)
{
	(void)arg;
	struct timespec ts = { 30, 0 };
	nanosleep(&ts, NULL);
	return (void *)1;                   /* not reached once cancelled */
}

static void *detached(void *arg)
{
	return arg;
}

int main(void)
{
	pthread_t t[NTHREADS], p;
	long sum = 0;

	pthread_key_create(&key, destructor);
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i))
			return 1;
	for (int i = 0; i < NTHREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		sum += (long)r;
	}
	printf("counter %ld (want %d)\n", counter, NTHREADS * ROUNDS);
	printf("tls: main %d, threads sum %ld\n", tls_value, sum);
	printf("destructors: %d, once: %d\n", destructed, once_runs);

	pthread_create(&p, NULL, ponger, NULL);
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&lock);
		turn = 1;
		pthread_cond_signal(&cv);
		while (turn != 0)
			pthread_cond_wait(&cv, &lock);
		pthread_mutex_unlock(&lock);
	}
	pthread_join(p, NULL);
	printf("pongs %d\n", pongs);

	void *deep_result;
	pthread_create(&p, NULL, recurse, (void *)100L);
	pthread_join(p, &deep_result);
	printf("deep recursion: %ld\n", (long)deep_result);

	/* One stack of the program's own, reused by thread after thread: each
	 * must be off it before pthread_join returns. */
	static char own_stack[64 * 1024] __attribute__((aligned(16)));
	pthread_attr_t own;
	long reused = 0;
	pthread_attr_init(&own);
	pthread_attr_setstack(&own, own_stack, sizeof(own_stack));
	for (long i = 0; i < 20; i++) {
		void *r;
		pthread_create(&p, &own, recurse, (void *)10L);
		pthread_join(p, &r);
		reused += (long)r;
	}
	printf("own stack reused: %ld\n", reused);

	void *cancelled;
	pthread_create(&p, NULL, sleeps_long, NULL);
	usleep(20000);
	pthread_cancel(p);
	pthread_join(p, &cancelled);
	printf("cancelled in nanosleep: %d\n", cancelled == PTHREAD_CANCELED);

	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < 50; i++)
		pthread_create(&p, &a, detached, NULL);
	printf("detached threads started\n");
	return 0;
}
