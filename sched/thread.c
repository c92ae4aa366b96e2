/*
 * sched/thread.c - creating, ending and joining threads.
 *
 * A thread's struct sits at the top of its stack allocation, so one
 * allocation serves both.  Exit is two-step: thread_exit() marks the thread
 * EXITING and switches away for good; the next thread to run on that CPU,
 * once nothing runs on the old stack, marks it DEAD (sched.c) and calls
 * thread_reap(), which frees a detached thread or wakes the joiner.
 */
#include "sched/sched_impl.h"
#include "sched/stack_impl.h"

/* Every thread, for sched_dump_threads(); guarded by registry_lock. */
static struct mutex registry_lock = MUTEX_INIT;
static struct thread *registry;

static void registry_add(struct thread *t)
{
	WITH_LOCK(&registry_lock) {
		t->reg_prev = NULL;
		t->reg_next = registry;
		if (registry)
			registry->reg_prev = t;
		registry = t;
	}
}

static void registry_remove(struct thread *t)
{
	WITH_LOCK(&registry_lock) {
		if (t->reg_prev)
			t->reg_prev->reg_next = t->reg_next;
		else
			registry = t->reg_next;
		if (t->reg_next)
			t->reg_next->reg_prev = t->reg_prev;
	}
}

#define JOIN_REAPED ((struct thread *)1)   /* t->joiner once the thread is reaped */

/* Detached threads that died: freed later by any thread (freeing takes the
 * registry lock, which the switch path that finds them dead cannot).  Any
 * CPU pushes; reap_zombies() takes the whole stack at once (no ABA). */
static struct thread *zombies;

static void zombie_push(struct thread *t)
{
	struct thread *head = __atomic_load_n(&zombies, __ATOMIC_RELAXED);

	do {
		t->zombie_next = head;
	} while (!__atomic_compare_exchange_n(&zombies, &head, t, true,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

static void free_thread(struct thread *t)
{
	registry_remove(t);
	stack_free(t->stack, t->stack_size);
}

static void reap_zombies(void)
{
	struct thread *z = __atomic_exchange_n(&zombies, NULL, __ATOMIC_ACQUIRE);

	while (z) {
		struct thread *next = z->zombie_next;
		free_thread(z);
		z = next;
	}
}

static void set_name(struct thread *t, const char *name)
{
	strlcpy(t->name, name ? name : "thread", sizeof(t->name));
}

void thread_init_boot(struct thread *t, const char *name, unsigned int cpu)
{
	memset(t, 0, sizeof(*t));
	t->state = THREAD_RUNNING;
	t->on_cpu = true;
	t->cpu = cpu;
	t->pinned = (int)cpu;
	t->migrate_to = -1;
	set_name(t, name);
	registry_add(t);
}

/* The first code of every created thread. */
static const struct thread_hooks *hooks;

void thread_set_hooks(const struct thread_hooks *h)
{
	hooks = h;
}

static void thread_start(void *arg)
{
	struct thread *t = arg;

	sched_thread_started();
	if (hooks && !t->libc.own_tls)
		hooks->start();
	t->fn(t->arg);
	thread_exit();
}

static unsigned int place(const struct thread_attr *attr)
{
	if (attr->cpu >= 0)
		return (unsigned int)attr->cpu;
	return this_cpu()->id;               /* load balancing moves it later */
}

struct thread *thread_alloc(void (*fn)(void *), void *arg, const struct thread_attr *attr)
{
	size_t size = attr->stack_size ? attr->stack_size : SCHED_DEFAULT_STACK;
	struct thread *t;
	void *stack;

	reap_zombies();
	if (attr->cpu >= (int)CONFIG_MAX_CPUS || attr->cpu < -1 ||
	    (attr->cpu >= 0 && !cpus[attr->cpu].online) || size > STACK_MAX ||
	    size < STACK_MIN || (size & (size - 1)))
		return ERR_PTR(-EINVAL);
	stack = stack_alloc(size);
	if (!stack)
		return ERR_PTR(-ENOMEM);
	t = (struct thread *)((char *)stack + size - ALIGN_UP(sizeof(*t), 64));
	memset(t, 0, sizeof(*t));
	t->stack = stack;
	t->stack_size = size;
	t->fn = fn;
	t->arg = arg;
	t->pinned = attr->cpu;
	t->migrate_to = -1;
	t->cpu = place(attr);
	t->detached = attr->detached;
	t->libc.own_tls = attr->own_tls;
	t->state = THREAD_WAKING;
	set_name(t, attr->name);
	arch_context_init(&t->ctx, t, thread_start, t);
	registry_add(t);
	return t;
}

struct thread *thread_create(void (*fn)(void *), void *arg, const struct thread_attr *attr)
{
	struct thread_attr def = THREAD_ATTR();
	struct thread *t = thread_alloc(fn, arg, attr ? attr : &def);
	unsigned long flags;

	if (IS_ERR(t))
		return t;
	flags = arch_irq_save();
	sched_send_to_cpu(t, t->cpu);
	arch_irq_restore(flags);
	return t;
}

void thread_exit(void)
{
	struct thread *me = thread_self();

	if (hooks && !me->libc.own_tls)
		hooks->end();
	arch_irq_disable();
	__atomic_store_n(&me->state, THREAD_EXITING, __ATOMIC_RELEASE);
	sched_switch();
	panic("thread %s ran after it exited", me->name);
}

/* t has exited and nothing runs on its stack.  A joiner may free t as soon
 * as it sees DEAD, so DEAD is the last thing written to t. */
void thread_reap(struct thread *t)
{
	struct thread *joiner;

	if (t->detached) {
		__atomic_store_n(&t->state, THREAD_DEAD, __ATOMIC_RELEASE);
		zombie_push(t);                 /* after this, t may be freed at any time */
		return;
	}
	joiner = __atomic_exchange_n(&t->joiner, JOIN_REAPED, __ATOMIC_ACQ_REL);
	__atomic_store_n(&t->state, THREAD_DEAD, __ATOMIC_RELEASE);
	if (joiner)
		sched_wake(joiner);
}

int thread_join(struct thread *t)
{
	struct thread *me = thread_self(), *expected = NULL;

	if (t == me || t->detached || !t->stack)
		return -EINVAL;                 /* self, detached, or a boot/idle thread */
	sched_prepare_wait();
	if (__atomic_compare_exchange_n(&t->joiner, &expected, me, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		sched_wait();                   /* thread_reap wakes us */
	} else {
		sched_cancel_wait();
		if (expected != JOIN_REAPED)
			return -EINVAL;         /* someone else is joining it */
	}
	while (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != THREAD_DEAD)
		thread_yield();                 /* woken early by someone else */
	free_thread(t);
	reap_zombies();
	return 0;
}

static const char *const state_names[] = {
	[THREAD_RUNNING] = "running", [THREAD_QUEUED] = "queued",
	[THREAD_WAITING] = "waiting", [THREAD_WAKING] = "waking",
	[THREAD_EXITING] = "exiting", [THREAD_DEAD] = "dead",
	[THREAD_MIGRATING] = "moving",
};

/* Prints every thread: name, state, CPU, run time, switches. */
void sched_dump_threads(void)
{
	printk("%-16s %-8s %4s %12s %10s\n", "thread", "state", "cpu", "run_us", "switches");
	WITH_LOCK(&registry_lock) {
		for (struct thread *t = registry; t; t = t->reg_next)
			printk("%-16s %-8s %4u %12lu %10lu\n", t->name,
			       state_names[__atomic_load_n(&t->state, __ATOMIC_RELAXED)],
			       t->cpu, t->run_ns / 1000, t->switches);
	}
	for (unsigned int i = 0; i < CONFIG_MAX_CPUS; i++) {
		struct sched_stats s;
		if (!cpus[i].online)
			continue;
		sched_cpu_stats(i, &s);
		printk("cpu %u: %lu switches, %lu remote wakeups, %lu IPIs sent, %lu avoided, idle %lu us\n",
		       i, s.switches, s.wakeups_remote, s.ipis_sent, s.ipis_avoided, s.idle_ns / 1000);
	}
}

struct thread_libc *thread_libc(struct thread *t)
{
	return &t->libc;
}

void thread_kick(struct thread *t)
{
	if (t == thread_self() || sched_wake(t))
		return;
	if (__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE))
		arch_ipi_send(t->cpu);          /* its trap path looks for signals */
}

/* The struct thread sits at the top of its stack: the stack starts below it. */
void *thread_kernel_stack_top(struct thread *t)
{
	return t;
}

bool thread_on_kernel_stack(struct thread *t, uintptr_t sp)
{
	return !t->stack || (sp >= (uintptr_t)t->stack && sp < (uintptr_t)t);
}

void thread_set_tls(uint64_t fs_base)
{
	unsigned long flags = arch_irq_save();

	thread_self()->fs_base = fs_base;
	arch_set_tls(fs_base);
	arch_irq_restore(flags);
}

/* Pins the calling thread to `cpu`, moving it there. */
int thread_pin(int cpu)
{
	struct thread *me = thread_self();

	if (cpu < 0 || cpu >= CONFIG_MAX_CPUS || !cpus[cpu].online)
		return -EINVAL;
	if (me->preempt_count)
		return -EBUSY;                  /* it could not move now */
	me->pinned = cpu;
	if ((unsigned int)cpu != me->cpu) {
		me->migrate_to = cpu;
		thread_yield();                 /* the switch path sends us there */
	}
	return 0;
}

const char *thread_name(const struct thread *t)
{
	return t->name;
}

unsigned int thread_cpu(const struct thread *t)
{
	return t->cpu;
}

uint64_t thread_run_ns(const struct thread *t)
{
	return t->run_ns;
}

void thread_sleep_ns(uint64_t ns)
{
	uint64_t now = arch_clock_ns();
	uint64_t deadline = ns > ~0ULL - now ? ~0ULL : now + ns;   /* "forever" stays forever */

	do {
		sched_prepare_wait();
	} while (sched_wait_until(deadline));   /* true: woken before the deadline */
}
