/*
 * bench/kernel/sched_bench.c - the in-kernel micro-benchmarks (scheduler and
 * heap), run inside the kernel (build/bench/kernel.elf; `make bench` boots
 * it at 2 CPUs).
 *
 * Each line is one measurement: what bounces between two threads, on one
 * CPU or two, and the cost per switch (one thread giving the CPU to the
 * other) or per operation.  Times are the guest's clock; under TCG they are
 * emulation times, comparable only with other guests in the same QEMU.
 */
#include "core/kernel.h"
#include "core/arch.h"
#include "sched/sched.h"
#include "core/mm.h"


#define ROUNDS 20000

static struct semaphore sem_a, sem_b;
static struct mutex mtx;
static struct condvar cv;
static int turn;
static volatile bool yield_stop;

static void yielder(void *arg)
{
	(void)arg;
	while (!yield_stop)
		thread_yield();
}

static void sem_partner(void *arg)
{
	for (long i = 0; i < (long)(uintptr_t)arg; i++) {
		sem_down(&sem_a);
		sem_up(&sem_b);
	}
}

static void cond_partner(void *arg)
{
	WITH_LOCK(&mtx) {
		for (long i = 0; i < (long)(uintptr_t)arg; i++) {
			while (turn != 1)
				cond_wait(&cv, &mtx);
			turn = 0;
			cond_signal(&cv);
		}
	}
}

static void report(const char *what, uint64_t ns, long ops, const char *unit)
{
	uint64_t per = ns / (uint64_t)ops;

	printk("| %-44s | %6lu.%03lu µs | %9lu %s/s |\n", what, per / 1000, per % 1000,
	       (unsigned long)((uint64_t)ops * 1000000000ULL / ns), unit);
}

static void bench_yield(void)
{
	struct thread *t;
	uint64_t t0;

	yield_stop = false;
	thread_pin(0);
	t = thread_create(yielder, NULL, &THREAD_ATTR(.cpu = 0));
	thread_yield();
	t0 = arch_clock_ns();
	for (int i = 0; i < ROUNDS; i++)
		thread_yield();
	report("yield between two threads, one CPU", arch_clock_ns() - t0, 2L * ROUNDS, "switches");
	yield_stop = true;
	thread_join(t);
}

static void bench_sem(int cpu, const char *what)
{
	struct thread *t;
	uint64_t t0;

	sem_init(&sem_a, 0);
	sem_init(&sem_b, 0);
	t = thread_create(sem_partner, (void *)(uintptr_t)ROUNDS, &THREAD_ATTR(.cpu = cpu));
	t0 = arch_clock_ns();
	for (int i = 0; i < ROUNDS; i++) {
		sem_up(&sem_a);
		sem_down(&sem_b);
	}
	report(what, arch_clock_ns() - t0, 2L * ROUNDS, "switches");
	thread_join(t);
}

static void bench_cond(int cpu, const char *what)
{
	struct thread *t;
	uint64_t t0;

	turn = 0;
	t = thread_create(cond_partner, (void *)(uintptr_t)ROUNDS, &THREAD_ATTR(.cpu = cpu));
	t0 = arch_clock_ns();
	WITH_LOCK(&mtx) {
		for (int i = 0; i < ROUNDS; i++) {
			turn = 1;
			cond_signal(&cv);
			while (turn != 0)
				cond_wait(&cv, &mtx);
		}
	}
	report(what, arch_clock_ns() - t0, 2L * ROUNDS, "switches");
	thread_join(t);
}

static void nothing(void *arg)
{
	(void)arg;
}

static void bench_create(void)
{
	uint64_t t0 = arch_clock_ns();

	for (int i = 0; i < ROUNDS / 4; i++)
		thread_join(thread_create(nothing, NULL, &THREAD_ATTR(.cpu = 0)));
	report("thread create + join", arch_clock_ns() - t0, ROUNDS / 4, "threads");
}

static void bench_mutex_uncontended(void)
{
	uint64_t t0 = arch_clock_ns();

	for (int i = 0; i < ROUNDS * 10; i++) {
		mutex_lock(&mtx);
		mutex_unlock(&mtx);
	}
	report("mutex lock + unlock, uncontended", arch_clock_ns() - t0, ROUNDS * 10L, "pairs");
}

static void bench_malloc(void)
{
	uint64_t t0;

	free(malloc(64));                       /* warm: the slab exists */
	t0 = arch_clock_ns();
	for (int i = 0; i < ROUNDS * 10; i++)
		free(malloc(64));
	report("malloc(64) + free, one CPU", arch_clock_ns() - t0, ROUNDS * 10L, "pairs");
}

/* The memory issue's figure: mmap 256 MiB, touch every 4 KiB, munmap. */
static void bench_mmap(void)
{
	const size_t len = 256UL << 20;
	uint64_t t0 = arch_clock_ns();
	long a = vm_mmap(0, len, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS);

	if (a < 0) {
		printk("| mmap 256 MiB: failed (%ld): boot with --mem 512M or more |\n", a);
		return;
	}
	for (size_t off = 0; off < len; off += 4096)
		((volatile char *)a)[off] = 1;
	vm_munmap((uintptr_t)a, len);
	report("mmap 256 MiB + touch each 4 KiB + munmap, per MiB", arch_clock_ns() - t0, 256, "MiB");
}

int main(int argc, char **argv)
{
	int other = ncpus_online > 1 ? 1 : 0;

	(void)argc;
	(void)argv;
	mutex_init(&mtx, false);
	cond_init(&cv);
	printk("| benchmark | per switch or op | rate |\n|---|---|---|\n");
	bench_yield();
	bench_sem(0, "semaphore ping-pong, one CPU");
	bench_sem(other, "semaphore ping-pong, two CPUs");
	bench_cond(0, "mutex + condvar ping-pong, one CPU");
	bench_cond(other, "mutex + condvar ping-pong, two CPUs");
	bench_create();
	bench_mutex_uncontended();
	bench_malloc();
	bench_mmap();
	return 0;
}
