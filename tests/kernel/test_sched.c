/*
 * tests/kernel/test_sched.c - threads, waiting, waking and locks, in the
 * booted kernel, on as many CPUs as the VM has.
 */
#include "core/ktest.h"
#include "core/arch.h"
#include "sched/sched.h"

static int ran;

static void set_ran(void *arg)
{
	ran = (int)(uintptr_t)arg;
}

KTEST(sched_thread_runs_and_joins)
{
	struct thread *th = thread_create(set_ran, (void *)42, &THREAD_ATTR(.name = "t1"));

	KCHECK(t, !IS_ERR(th));
	KCHECK_EQ(t, thread_join(th), 0);
	KCHECK_EQ(t, ran, 42);
}

KTEST(sched_bad_attributes_are_refused)
{
	KCHECK_EQ(t, PTR_ERR(thread_create(set_ran, NULL, &THREAD_ATTR(.cpu = 999))), -EINVAL);
	KCHECK_EQ(t, PTR_ERR(thread_create(set_ran, NULL, &THREAD_ATTR(.stack_size = 100))), -EINVAL);
	KCHECK_EQ(t, thread_join(thread_self()), -EINVAL);
}

static void nothing(void *arg)
{
	(void)arg;
}

KTEST(sched_create_join_churn_on_every_cpu)
{
	for (int i = 0; i < 200; i++) {
		struct thread *th = thread_create(nothing, NULL,
						  &THREAD_ATTR(.cpu = (int)(i % ncpus_online)));
		KCHECK(t, !IS_ERR(th));
		if (IS_ERR(th))
			return;
		KCHECK_EQ(t, thread_join(th), 0);
	}
}

KTEST(sched_sleep_lasts_at_least_its_time)
{
	uint64_t t0 = arch_clock_ns(), dt;

	thread_sleep_ns(3000000);
	dt = arch_clock_ns() - t0;
	KCHECK(t, dt >= 3000000);
	KCHECK(t, dt < 2000000000ULL);               /* bounded: not lost */
}

struct ping {
	struct mutex m;
	struct condvar cv;
	int turn, rounds;
};

static void pong(void *arg)
{
	struct ping *p = arg;

	WITH_LOCK(&p->m) {
		for (int i = 0; i < p->rounds; i++) {
			while (p->turn != 1)
				cond_wait(&p->cv, &p->m);
			p->turn = 0;
			cond_broadcast(&p->cv);
		}
	}
}

static void ping_pong(struct ktest_ctx *t, int cpu)
{
	static struct ping p;
	struct thread *th;

	mutex_init(&p.m, false);
	cond_init(&p.cv);
	p.turn = 0;
	p.rounds = 500;
	th = thread_create(pong, &p, &THREAD_ATTR(.name = "pong", .cpu = cpu));
	KCHECK(t, !IS_ERR(th));
	WITH_LOCK(&p.m) {
		for (int i = 0; i < p.rounds; i++) {
			p.turn = 1;
			cond_broadcast(&p.cv);
			while (p.turn != 0)
				cond_wait(&p.cv, &p.m);
		}
	}
	KCHECK_EQ(t, thread_join(th), 0);
	KCHECK_EQ(t, p.turn, 0);
}

KTEST(sched_condvar_ping_pong_same_cpu)
{
	ping_pong(t, 0);
}

KTEST(sched_condvar_ping_pong_across_cpus)
{
	ping_pong(t, ncpus_online > 1 ? 1 : 0);
}

struct stress {
	struct mutex m;
	long counter;
	int inside;                 /* must be 0 on entry, 1 inside */
	int violations;
	int iterations;
};

static void hammer(void *arg)
{
	struct stress *s = arg;

	for (int i = 0; i < s->iterations; i++) {
		mutex_lock(&s->m);
		if (s->inside++)
			s->violations++;
		s->counter++;
		s->inside--;
		mutex_unlock(&s->m);
		if ((i & 63) == 0)
			thread_yield();
	}
}

KTEST(sched_mutex_stress_every_cpu)
{
	static struct stress s;
	struct thread *th[8];
	int n = 8;

	mutex_init(&s.m, false);
	s.counter = 0;
	s.violations = 0;
	s.iterations = 3000;
	for (int i = 0; i < n; i++)
		th[i] = thread_create(hammer, &s, &THREAD_ATTR(.cpu = (int)(i % ncpus_online)));
	for (int i = 0; i < n; i++)
		KCHECK_EQ(t, thread_join(th[i]), 0);
	KCHECK_EQ(t, s.counter, (long)n * s.iterations);
	KCHECK_EQ(t, s.violations, 0);
}

KTEST(sched_recursive_mutex)
{
	struct mutex m;

	mutex_init(&m, true);
	mutex_lock(&m);
	mutex_lock(&m);
	KCHECK(t, mutex_owned(&m));
	KCHECK(t, mutex_trylock(&m));
	mutex_unlock(&m);
	mutex_unlock(&m);
	KCHECK(t, mutex_owned(&m));
	mutex_unlock(&m);
	KCHECK(t, !mutex_owned(&m));
	KCHECK(t, mutex_trylock(&m));
	mutex_unlock(&m);
}

static void sem_upper(void *arg)
{
	thread_sleep_ns(1000000);
	sem_up(arg);
}

KTEST(sched_semaphore_wakes_across_cpus)
{
	static struct semaphore s;
	struct thread *th;
	uint64_t deadline;

	sem_init(&s, 0);
	KCHECK(t, !sem_trydown(&s));
	th = thread_create(sem_upper, &s, &THREAD_ATTR(.cpu = (int)(ncpus_online - 1)));
	sem_down(&s);
	KCHECK_EQ(t, thread_join(th), 0);
	deadline = arch_clock_ns() + 2000000;
	KCHECK(t, !sem_down_until(&s, deadline));   /* times out */
	KCHECK(t, arch_clock_ns() >= deadline);
	sem_up(&s);
	KCHECK(t, sem_down_until(&s, arch_clock_ns() + 1000000000ULL));
}

static volatile bool spinner_started, stop_spinning;

static void spinner(void *arg)
{
	(void)arg;
	spinner_started = true;
	while (!stop_spinning)
		;                                   /* never yields */
}

/* Both the test and the spinner run on CPU 0 and neither yields: the
 * spinner can only start if the test's busy loop is preempted, and the
 * test can only finish if the spinner is preempted in turn. */
KTEST(sched_busy_loop_is_preempted)
{
	struct thread *th;
	uint64_t end = arch_clock_ns() + 2000000000ULL;

	spinner_started = stop_spinning = false;
	th = thread_create(spinner, NULL, &THREAD_ATTR(.name = "spinner", .cpu = 0));
	KCHECK(t, !IS_ERR(th));
	while (!spinner_started && arch_clock_ns() < end)
		;
	KCHECK(t, spinner_started);
	stop_spinning = true;
	KCHECK_EQ(t, thread_join(th), 0);
}

struct share {
	volatile bool go, stop;
	double x;                               /* FPU work across preemptions */
};

static void cpu_bound(void *arg)
{
	struct share *s = arg;
	volatile double x = 1.0;

	while (!s->go)
		thread_yield();
	while (!s->stop)
		x = x * 1.0000001 + 1e-9;
	s->x = x;
}

/* Runs N CPU-bound threads on one CPU for 0.4 s; true if their CPU times
 * are within 10% of each other. */
#define N_SHARE 3
static bool equal_shares(struct ktest_ctx *t)
{
	static struct share s;
	struct thread *th[N_SHARE];
	unsigned int cpu = ncpus_online - 1;
	uint64_t run[N_SHARE], lo = ~0ULL, hi = 0;
	enum { N = N_SHARE };

	s.go = s.stop = false;
	for (int i = 0; i < N; i++)
		th[i] = thread_create(cpu_bound, &s, &THREAD_ATTR(.name = "share", .cpu = (int)cpu));
	s.go = true;
	thread_sleep_ns(400000000);             /* 0.4 s */
	s.stop = true;
	for (int i = 0; i < N; i++) {
		KCHECK_EQ(t, thread_join(th[i]), 0);
		run[i] = thread_run_ns(th[i]);
		lo = MIN(lo, run[i]);
		hi = MAX(hi, run[i]);
	}
	printk("#   run times (ms): %lu %lu %lu\n", run[0] / 1000000, run[1] / 1000000, run[2] / 1000000);
	return lo > 0 && (hi - lo) * 10 <= hi;
}

/* N CPU-bound threads on one CPU get equal CPU time within 10%.  Time the
 * host takes from the VM while a thread runs is charged to that thread, so
 * one retry forgives a noisy host; an unfair scheduler fails both. */
KTEST(sched_equal_share_on_one_cpu)
{
	KCHECK(t, equal_shares(t) || equal_shares(t));
}
