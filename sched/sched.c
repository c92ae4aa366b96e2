/*
 * sched/sched.c - the per-CPU scheduler: switching, waiting and waking,
 * cross-CPU wakeups, timers, preemption, the idle loop.
 *
 * Each CPU owns its run queue and timer queue and touches them only with
 * interrupts off, so they need no locks.  A thread woken from another CPU
 * is sent through that pair of CPUs' single-producer/single-consumer inbox
 * ring; the sender sets its bit in the target's inbox_mask and sends an IPI
 * only if the target is not already polling (an idle CPU announces that it
 * is about to look, so the VM exit an IPI costs is skipped).
 *
 * There is no periodic tick.  Every switch arms one one-shot deadline: the
 * earlier of the next timer and, when other threads are runnable, the end
 * of the current thread's slice (fair.c).
 */
#include "sched/sched_impl.h"
#include "core/bootmem.h"

struct sched_cpu sched_cpus[CONFIG_MAX_CPUS];
bool sched_running;

static uint64_t now_ns(void)
{
	return arch_clock_ns();
}

/* --- the one-shot deadline --- */

/* Programming the timer is a VM exit (an emulated device access under
 * TCG), so it is done only when the earliest deadline moves earlier than
 * what the hardware holds.  A later or cancelled deadline leaves the
 * hardware armed: it fires early, finds nothing expired, and re-arms for
 * what is really next. */
static void program_deadline(struct sched_cpu *sc)
{
	struct timerq_node *first = timerq_earliest(&sc->timers);
	uint64_t want = first ? timerq_deadline(first) : 0;

	if (!want || (sc->programmed && sc->programmed <= want && sc->programmed > now_ns()))
		return;                         /* the hardware will fire first (a past one is stale) */
	sc->programmed = want;
	arch_timer_oneshot(want);
}

void sched_timer_arm(struct sched_timer *tm, uint64_t deadline_ns)
{
	struct sched_cpu *sc = sched_this_cpu();

	timerq_insert(&sc->timers, &tm->node, deadline_ns ? deadline_ns : 1);   /* moves it if queued */
	program_deadline(sc);
}

void sched_timer_cancel(struct sched_timer *tm)
{
	timerq_cancel(&sched_this_cpu()->timers, &tm->node);
}

static void run_expired_timers(struct sched_cpu *sc)
{
	struct timerq_node *n;

	sc->programmed = 0;                     /* it fired */
	while ((n = timerq_pop_expired(&sc->timers, now_ns())))
		container_of(n, struct sched_timer, node)->fn(container_of(n, struct sched_timer, node));
	program_deadline(sc);
}

static void slice_expired(struct sched_timer *tm)
{
	(void)tm;
	sched_this_cpu()->resched = true;
}

/* --- run queue --- */

static void arm_slice(struct sched_cpu *sc, struct thread *next, uint64_t now);

void sched_enqueue_local(struct thread *t)
{
	struct sched_cpu *sc = sched_this_cpu();

	ASSERT(t->cpu == this_cpu()->id);
	if (timerq_queued(&t->timer.node))
		sched_timer_cancel(&t->timer);
	fair_adopt(sc, t);
	rq_insert(&sc->rq, &t->rq_node, t->fair_key);
	/* No switch right here (a waker usually has more to do, often with a
	 * lock held that the woken thread would block on): the current thread's
	 * slice now ends, at the next interrupt if the newcomer should run
	 * first, or when the fairness margin is crossed (at least 1 ms). */
	if (fair_should_preempt(sc, sc->current, t))
		sc->resched = true;
	if (sc->current != sc->idle)
		arm_slice(sc, sc->current, now_ns());
}

/* A thread this CPU received.  It may still be the current thread, woken
 * before it managed to switch away: then it just keeps running.  A wakeup
 * that finds the thread no longer WAKING is stale (the thread stopped
 * waiting on its own, or was woken twice) and is dropped. */
static void receive(struct sched_cpu *sc, struct thread *t)
{
	int expected = THREAD_WAKING;
	int to = t == sc->current ? THREAD_RUNNING : THREAD_QUEUED;

	if (!__atomic_compare_exchange_n(&t->state, &expected, to, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	if (to == THREAD_QUEUED)
		sched_enqueue_local(t);
}

static void drain_inbox(struct sched_cpu *sc)
{
	uint64_t mask = __atomic_exchange_n(&sc->inbox_mask, 0, __ATOMIC_ACQ_REL);

	while (mask) {
		unsigned int from = (unsigned int)__builtin_ctzll(mask);
		struct thread *t;

		mask &= mask - 1;
		while ((t = spsc_pop(sc->inbox[from])))
			receive(sc, t);
	}
}

void sched_send_to_cpu(struct thread *t, unsigned int cpu)
{
	struct sched_cpu *me = sched_this_cpu(), *to = &sched_cpus[cpu];
	unsigned int my_id = this_cpu()->id;

	t->cpu = cpu;
	if (cpu == my_id) {
		receive(me, t);
		return;
	}
	while (!spsc_push(to->inbox[my_id], t)) {
		arch_ipi_send(cpu);             /* full: make it drain, then retry */
		drain_inbox(me);                /* and drain ours, in case it waits on us */
		arch_cpu_relax();
	}
	__atomic_fetch_or(&to->inbox_mask, 1ULL << my_id, __ATOMIC_SEQ_CST);
	me->stats.wakeups_remote++;
	if (__atomic_load_n(&to->polling, __ATOMIC_SEQ_CST)) {
		me->stats.ipis_avoided++;
		return;
	}
	me->stats.ipis_sent++;
	arch_ipi_send(cpu);
}

/* --- waiting and waking --- */

/* From sched_prepare_wait() to sched_wait() or sched_cancel_wait() the
 * thread is not preempted: preemption there would put it to sleep for good
 * if it then found its condition already true. */
void sched_prepare_wait(void)
{
	struct thread *me = thread_self();

	me->preempt_count++;
	__atomic_store_n(&me->state, THREAD_WAITING, __ATOMIC_SEQ_CST);
}

void sched_cancel_wait(void)
{
	struct thread *me = thread_self();

	__atomic_store_n(&me->state, THREAD_RUNNING, __ATOMIC_SEQ_CST);
	preempt_enable();
}

bool sched_wake(struct thread *t)
{
	int expected = THREAD_WAITING;
	unsigned long flags = arch_irq_save();  /* no preemption between the CAS and the send */

	if (!__atomic_compare_exchange_n(&t->state, &expected, THREAD_WAKING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		arch_irq_restore(flags);
		return false;
	}
	sched_send_to_cpu(t, sched_wake_target(t));
	arch_irq_restore(flags);
	return true;
}

static void wait_timeout(struct sched_timer *tm)
{
	struct thread *t = container_of(tm, struct thread, timer);

	t->timed_out = true;
	sched_wake(t);
}

bool sched_wait_until(uint64_t deadline_ns)
{
	struct thread *me = thread_self();
	unsigned long flags = arch_irq_save();

	me->timed_out = false;
	if (deadline_ns) {
		me->timer.fn = wait_timeout;
		sched_timer_arm(&me->timer, deadline_ns);
	}
	sched_switch();
	if (timerq_queued(&me->timer.node))
		sched_timer_cancel(&me->timer);
	me->preempt_count--;                    /* taken by sched_prepare_wait */
	arch_irq_restore(flags);
	return !me->timed_out;
}

void sched_wait(void)
{
	sched_wait_until(0);
}

/* --- switching --- */

/* The next thread to run.  A running prev keeps the CPU unless the best
 * queued thread is ahead of it by the hysteresis margin; a yielding prev
 * goes behind every thread queued. */
static struct thread *pick_next(struct sched_cpu *sc, struct thread *prev, bool yield)
{
	struct rq_node *n;

	/* Woken before it got away: its wait timer (on this CPU) must go
	 * before it can be queued or moved. */
	if (prev->state == THREAD_RUNNING && timerq_queued(&prev->timer.node))
		sched_timer_cancel(&prev->timer);
	if (prev->state == THREAD_RUNNING && prev->migrate_to >= 0) {
		__atomic_store_n(&prev->state, THREAD_MIGRATING, __ATOMIC_RELEASE);
	} else if (prev->state == THREAD_RUNNING && prev != sc->idle) {
		n = rq_min(&sc->rq);
		if (!n)
			return prev;
		if (!yield && !fair_should_preempt(sc, prev, container_of(n, struct thread, rq_node)))
			return prev;
		if (yield && prev->fair_key < rq_key(n))
			prev->fair_key = rq_key(n);     /* equal keys run in FIFO order */
		__atomic_store_n(&prev->state, THREAD_QUEUED, __ATOMIC_RELEASE);
		rq_insert(&sc->rq, &prev->rq_node, prev->fair_key);
	}
	n = rq_pop_min(&sc->rq);
	return n ? container_of(n, struct thread, rq_node) : sc->idle;
}

/* The end of next's slice, when others wait.  An armed slice timer that
 * ends sooner is left alone: when it fires, the switch path decides again
 * (with hysteresis) and re-arms; so a switch rarely reprograms the timer. */
static void arm_slice(struct sched_cpu *sc, struct thread *next, uint64_t now)
{
	uint64_t end;

	if (!rq_count(&sc->rq) || next == sc->idle)
		return;
	end = now + fair_slice_ns(sc, next, now);
	if (timerq_queued(&sc->slice.node) && timerq_deadline(&sc->slice.node) <= end)
		return;
	sched_timer_arm(&sc->slice, end);
}

/* After a switch, on the new thread's stack: the previous thread may have
 * exited or asked to move to another CPU, and now nothing runs on its
 * stack any more. */
static void finish_switch(struct thread *prev)
{
	__atomic_store_n(&prev->on_cpu, false, __ATOMIC_RELEASE);
	if (prev->state == THREAD_EXITING) {
		thread_reap(prev);              /* publishes DEAD itself, in order */
	} else if (prev->migrate_to >= 0 && prev->state == THREAD_MIGRATING) {
		unsigned int to = (unsigned int)prev->migrate_to;
		prev->migrate_to = -1;
		__atomic_store_n(&prev->state, THREAD_WAKING, __ATOMIC_RELEASE);
		sched_send_to_cpu(prev, to);
	}
}

/* Gives the CPU to the best runnable thread (possibly prev itself).
 * Interrupts must be off; they are off again when the caller resumes. */
static void do_switch(bool yield)
{
	struct sched_cpu *sc = sched_this_cpu();
	struct thread *prev = sc->current, *next;
	uint64_t now;

	ASSERT(!arch_irq_enabled());
	if (prev->preempt_count && prev->state == THREAD_RUNNING)
		return;
	drain_inbox(sc);
	sched_serve_pulls(sc);
	now = now_ns();
	sched_balance(sc, now);
	fair_account(sc, prev, now);
	fair_renormalize(sc, now);
	__atomic_fetch_add(&sc->quiescent, 1, __ATOMIC_RELEASE);
	sc->resched = false;
	next = pick_next(sc, prev, yield);
	arm_slice(sc, next, now);
	if (next == prev)
		return;
	__atomic_store_n(&next->state, THREAD_RUNNING, __ATOMIC_RELEASE);
	sc->current = next;
	this_cpu()->current = next;
	this_cpu()->current_libc = &next->libc;
	sc->stats.switches++;
	next->switches++;
	if (next->fs_base != prev->fs_base)
		arch_set_tls(next->fs_base);
	sc->switched_from = prev;
	__atomic_store_n(&next->on_cpu, true, __ATOMIC_RELAXED);
	arch_switch(&prev->ctx, &next->ctx);
	/* Resumed, perhaps much later and perhaps on another CPU. */
	finish_switch(sched_this_cpu()->switched_from);
}

void sched_switch(void)
{
	do_switch(false);
}

/* A new thread's first code: what sched_switch would have done after
 * arch_switch, then interrupts on. */
void sched_thread_started(void)
{
	finish_switch(sched_this_cpu()->switched_from);
	arch_irq_enable();
}

/* Lets the other runnable threads of this CPU run first. */
void thread_yield(void)
{
	unsigned long flags = arch_irq_save();

	do_switch(true);
	arch_irq_restore(flags);
}

/* --- preemption --- */

/* The count belongs to the thread: a thread that sleeps with preemption
 * disabled (a wait in progress) takes its count with it. */
void preempt_disable(void)
{
	thread_self()->preempt_count++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void preempt_enable(void)
{
	struct thread *me = thread_self();

	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	ASSERT(me->preempt_count > 0);
	if (--me->preempt_count == 0 && sched_this_cpu()->resched && arch_irq_enabled()) {
		arch_irq_disable();
		sched_switch();
		arch_irq_enable();
	}
}

/* Asked by the interrupt return path (arch): should the interrupted thread
 * give up its CPU now?  Boot threads (main, the APs' idle) have no recorded stack: trusted. */
bool sched_stack_has_room(uintptr_t low)
{
	struct thread *t = thread_self();

	return !t || !t->stack || low >= (uintptr_t)t->stack;
}

uintptr_t sched_trap_copy_base(uintptr_t rsp)
{
	struct thread *t = thread_self();
	struct thread_libc *l;

	if (!t || thread_on_kernel_stack(t, rsp))
		return rsp - 128;               /* below the red zone */
	l = &t->libc;
	while (l->handler_depth) {              /* handlers left by siglongjmp */
		struct sig_handler_frame *h = &l->handlers[l->handler_depth - 1];
		if (rsp > h->lo && rsp <= h->hi)     /* at its start, rsp is hi */
			break;
		l->trap_stack = h->saved_trap_stack;
		l->handler_depth--;
	}
	return l->trap_stack ? l->trap_stack : rsp - 128;
}

unsigned int sched_thread_preempt_count(void)
{
	return thread_self()->preempt_count;
}

bool sched_preempt_wanted(void)
{
	struct sched_cpu *sc = sched_this_cpu();

	return sched_running && sc->resched && !sc->current->preempt_count &&
	       sc->current != sc->idle;
}

/* The interrupted thread, now on its own stack with its registers saved
 * below the red zone (arch), switches away; interrupts stay off. */
void sched_preempted(void)
{
	sched_switch();
}

/* --- interrupts --- */

static void on_timer(void)
{
	run_expired_timers(sched_this_cpu());
}

static void on_ipi(void)
{
	struct sched_cpu *sc = sched_this_cpu();

	/* An interrupted thread with preemption enabled is outside any RCU
	 * read-side section: a quiescent state (synchronize_rcu asks so). */
	if (!sc->current->preempt_count)
		__atomic_fetch_add(&sc->quiescent, 1, __ATOMIC_RELEASE);
	drain_inbox(sc);
	sched_serve_pulls(sc);
}

/* --- the idle loop --- */

#define IDLE_POLL_NS 20000

static void idle_wait(struct sched_cpu *sc)
{
	uint64_t until = now_ns() + IDLE_POLL_NS;

	__atomic_store_n(&sc->polling, true, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&sc->inbox_mask, __ATOMIC_SEQ_CST) && now_ns() < until)
		arch_cpu_relax();
	__atomic_store_n(&sc->polling, false, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sc->inbox_mask, __ATOMIC_SEQ_CST) || rq_count(&sc->rq))
		return;
	uint64_t t0 = now_ns();
	arch_wait_for_irq();            /* sti; hlt; cli: no wakeup is missed */
	sc->stats.idle_ns += now_ns() - t0;
}

static __attribute__((noreturn)) void idle_loop(void)
{
	struct sched_cpu *sc = sched_this_cpu();

	arch_irq_disable();
	for (;;) {
		arch_tlb_lazy_enter();          /* only kernel code runs here */
		__atomic_fetch_add(&sc->quiescent, 1, __ATOMIC_RELEASE);
		sc->resched = false;            /* idle: only rq_count says switch */
		fair_renormalize(sc, now_ns());  /* keep the scale finite while idle */
		drain_inbox(sc);
		sched_serve_pulls(sc);
		if (rq_count(&sc->rq)) {
			arch_tlb_lazy_leave();
			sched_switch();
			continue;
		}
		sched_ask_for_work(sc);
		idle_wait(sc);
	}
}

/* --- bring-up --- */

static struct thread main_thread;

struct thread *thread_self(void)
{
	return arch_current_thread();
}

/* Memory that lives as long as the VM: the inbox rings. */
static void *alloc_permanent(size_t size)
{
	uint64_t pa = bootmem_alloc(ALIGN_UP(size, PAGE_SIZE), PAGE_SIZE, ~0ULL);

	if (!pa)
		panic("sched: no memory for the scheduler's inboxes");
	return arch_phys_to_virt(pa);
}

static void init_cpu(unsigned int id)
{
	struct sched_cpu *sc = &sched_cpus[id];
	unsigned int n = arch_ncpus_possible();
	struct spsc_ring *rings;

	rq_init(&sc->rq);
	timerq_init(&sc->timers);
	sc->scale_now = 1.0;                    /* e^0: fair_base and switched_at are 0 */
	sc->slice.fn = slice_expired;
	rings = alloc_permanent(n * sizeof(*rings));
	for (unsigned int from = 0; from < n; from++) {
		spsc_init(&rings[from]);
		sc->inbox[from] = &rings[from];
	}
	cpus[id].sched = sc;
}

static void idle_entry(void *arg)
{
	(void)arg;
	sched_thread_started();
	idle_loop();
}

/* Called by kernel_main on the boot CPU, before the other CPUs start: the
 * boot context becomes the thread "main". */
void sched_init(void)
{
	for (unsigned int i = 0; i < arch_ncpus_possible(); i++)
		init_cpu(i);
	sched_cpus[0].current = cpus[0].current = &main_thread;   /* before it takes a lock */
	cpus[0].current_libc = &main_thread.libc;
	thread_init_boot(&main_thread, "main", 0);
	sched_cpus[0].idle = thread_alloc(idle_entry, NULL, &THREAD_ATTR(.name = "idle0", .cpu = 0));
	if (IS_ERR(sched_cpus[0].idle))
		panic("sched: no memory for the idle thread");
	arch_timer_set_handler(on_timer);
	arch_ipi_set_handler(on_ipi);
	sched_running = true;
}

/* Each other CPU, once it runs C code: its boot context becomes its idle
 * thread. */
void sched_ap_main(void)
{
	static struct thread ap_idle[CONFIG_MAX_CPUS];
	unsigned int id = this_cpu()->id;
	struct sched_cpu *sc = &sched_cpus[id];

	sc->idle = sc->current = cpus[id].current = &ap_idle[id];
	cpus[id].current_libc = &ap_idle[id].libc;
	thread_init_boot(&ap_idle[id], "idle", id);
	idle_loop();
}

void sched_cpu_stats(unsigned int cpu, struct sched_stats *s)
{
	if (cpu >= CONFIG_MAX_CPUS || !cpus[cpu].online) {
		memset(s, 0, sizeof(*s));
		return;
	}
	*s = sched_cpus[cpu].stats;
}
