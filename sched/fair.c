/*
 * sched/fair.c - who runs next: each thread's recent run time, decayed.
 *
 * A thread's fairness key is its run time with exponential decay (time
 * constant TAU): run time t seconds ago counts e^(-t/TAU).  The thread with
 * the smallest key runs.  As in the OSv paper, keys are stored scaled by
 * e^((now - base)/TAU) for a per-CPU time origin `base`, so that only the
 * running thread's key changes as time passes; running from a to b adds
 * TAU * (e^((b-base)/TAU) - e^((a-base)/TAU)).  When the scale grows large
 * the CPU moves its origin forward and rescales its queued keys.  A thread
 * woken after a sleep has its key rescaled to its new CPU's origin; its
 * decayed key makes it run soon, but it is not allowed below the smallest
 * queued key minus one slice, so a long sleeper cannot monopolize the CPU.
 *
 * Hysteresis: a thread is preempted only when another's key is smaller by
 * more than HYSTERESIS_NS of (scaled) run time, so two equal threads do not
 * switch at every opportunity; the slice timer fires when that margin will
 * have been crossed.
 */
#include "sched/sched_impl.h"

#define TAU_NS            200000000.0      /* 200 ms */
#define HYSTERESIS_NS     2000000.0        /* 2 ms */
#define MIN_SLICE_NS      1000000ULL       /* 1 ms */
#define MAX_SLICE_NS      50000000ULL      /* 50 ms */
#define RENORMALIZE_AFTER (10.0 * TAU_NS)  /* scale up to e^10 before moving the origin */

/* e^x for |x| < ~700, to about 1e-15 relative: x = k ln2 + r, |r| <= ln2/2,
 * e^r by its Taylor series (13 terms suffice), times 2^k by exponent
 * arithmetic.  The kernel has no libm. */
static double fair_exp(double x)
{
	const double ln2 = 0.69314718055994530942;
	double kf = x / ln2, r, term = 1.0, sum = 1.0;
	long k = (long)(kf < 0 ? kf - 0.5 : kf + 0.5);
	union { double d; uint64_t u; } scale;

	if (x > 700)
		x = 700, k = 1010;
	if (x < -700)
		return 0.0;
	r = x - (double)k * ln2;
	for (int i = 1; i < 14; i++) {
		term *= r / i;
		sum += term;
	}
	scale.u = (uint64_t)(k + 1023) << 52;
	return sum * scale.d;
}

static double scale_at(const struct sched_cpu *sc, uint64_t t)
{
	return fair_exp(((double)t - sc->fair_base) / TAU_NS);
}

/* Charges t with its run time since it was switched to. */
void fair_account(struct sched_cpu *sc, struct thread *t, uint64_t now)
{
	uint64_t from = sc->switched_at;

	double s_now;

	sc->switched_at = now;
	if (now <= from)
		return;
	s_now = scale_at(sc, now);              /* the one e^x of a switch */
	t->run_ns += now - from;
	if (t != sc->idle)
		t->fair_key += TAU_NS * (s_now - sc->scale_now);
	sc->scale_now = s_now;
}

/* Moves this CPU's origin to `now` once the scale has grown large. */
void fair_renormalize(struct sched_cpu *sc, uint64_t now)
{
	double f;
	struct rq_node *n;

	if ((double)now - sc->fair_base < RENORMALIZE_AFTER)
		return;
	struct thread *list = NULL, **tail = &list;

	f = 1.0 / scale_at(sc, now);
	sc->current->fair_key *= f;
	sc->current->fair_base = (double)now;
	/* Out in order, rescaled, back in the same order (rare: every 2 s). */
	while ((n = rq_pop_min(&sc->rq))) {
		struct thread *t = container_of(n, struct thread, rq_node);
		*tail = t;
		tail = &t->renorm_next;
	}
	*tail = NULL;
	for (struct thread *t = list; t; t = t->renorm_next) {
		t->fair_key *= f;
		t->fair_base = (double)now;
		rq_insert(&sc->rq, &t->rq_node, t->fair_key);
	}
	sc->fair_base = (double)now;
	sc->scale_now = scale_at(sc, sc->switched_at);
}

/* A thread arriving in this CPU's run queue: its key in our scale, and not
 * too far below the others'. */
void fair_adopt(struct sched_cpu *sc, struct thread *t)
{
	struct rq_node *n;
	double floor;

	fair_renormalize(sc, arch_clock_ns());
	n = rq_min(&sc->rq);
	if (t->fair_base != sc->fair_base) {
		t->fair_key *= fair_exp((t->fair_base - sc->fair_base) / TAU_NS);
		t->fair_base = sc->fair_base;
	}
	if (!(t->fair_key < 1e300))
		t->fair_key = 0;                /* never let a key become inf or NaN */
	floor = n ? rq_key(n) : sc->current->fair_key;
	floor -= MAX_SLICE_NS * sc->scale_now;
	if (t->fair_key < floor)
		t->fair_key = floor;
}

static double margin(struct sched_cpu *sc)
{
	return HYSTERESIS_NS * sc->scale_now;   /* the scale at the last switch: close enough */
}

bool fair_should_preempt(struct sched_cpu *sc, struct thread *cur, struct thread *t)
{
	if (cur == sc->idle)
		return true;
	return t->fair_key + margin(sc) < cur->fair_key;
}

/* How long from now cur may run before the best queued thread is ahead of
 * it by the hysteresis margin (for short times the scale is nearly
 * constant).  cur's key was last brought up to date at the switch; the time
 * it has run since (when asked on a wakeup, mid-slice) counts against it,
 * or each wakeup would push the end of its slice further away. */
uint64_t fair_slice_ns(struct sched_cpu *sc, struct thread *cur, uint64_t now)
{
	struct rq_node *n = rq_min(&sc->rq);
	double lead, ns;

	if (!n)
		return MAX_SLICE_NS;
	lead = rq_key(n) + margin(sc) - cur->fair_key;
	ns = lead / sc->scale_now;
	if (cur == sc->current && now > sc->switched_at)
		ns -= (double)(now - sc->switched_at);
	if (ns < (double)MIN_SLICE_NS)
		return MIN_SLICE_NS;
	return ns > (double)MAX_SLICE_NS ? MAX_SLICE_NS : (uint64_t)ns;
}
