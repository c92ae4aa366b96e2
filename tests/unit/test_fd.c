/*
 * tests/unit/test_fd.c - host unit tests for the descriptor table and the
 * lifetime of open files (fs/fd.c, fs/file.c), the real code over the
 * faked locks and RCU of tests/unit/host_kernel.c.
 *
 * A test file's priv is a record that counts its releases: release must
 * come exactly once, when the last reference goes, and the struct file
 * must stay readable until the next grace period and be freed by it (ASan
 * says which memory is freed).  Descriptors 0-2 are the kernel's static
 * console files: they may be closed and replaced, never released or freed.
 *
 * The table is one global: each test starts from the boot state (0-2 the
 * console, nothing else, limit 1024) and restores it (table_reset).
 * Directed tests cover the lowest-free search (across the 1024-slot chunks
 * and the soft limit), dup2, close, close-on-exec and references; a
 * randomized test checks 100,000 operations against a model of the table
 * and of every file's count; a threaded test closes and replaces
 * descriptors while other threads look them up and a grace period runs
 * all the time, so a file freed too early is an ASan report.  The whole
 * binary also runs under ThreadSanitizer (tests/unit/tsan.sh fd).
 * Build and run: make build/unit/test_fd && build/unit/test_fd
 */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "tests/unit/host_kernel.h"
#include "core/kernel.h"
#include "fs/fs.h"
#include "fs/fs_impl.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#define MEM_FREED(p) (__asan_address_is_poisoned(p) != 0)
#define MEM_LIVE(p)  (__asan_address_is_poisoned(p) == 0)
#else                                   /* unknown without ASan (the TSan build) */
#define MEM_FREED(p) ((void)(p), true)
#define MEM_LIVE(p)  ((void)(p), true)
#endif

/* ---- test files ---- */

#define TFILE_MAGIC 0x7f11e5eedULL

struct tfile {
	uint64_t magic;
	int releases;                   /* atomic */
	int refs;                       /* the model's count (randomized test) */
	struct file *f;
};

static void tfile_release(struct file *f)
{
	struct tfile *t = f->priv;

	CHECK(t->magic == TFILE_MAGIC);
	__atomic_fetch_add(&t->releases, 1, __ATOMIC_RELAXED);
}

static const struct file_ops tfile_ops = { .release = tfile_release };

/* Opens a file for t (one reference, the caller's). */
static struct file *tfile_open(struct tfile *t)
{
	struct file *f = file_alloc(&tfile_ops, 2 /* O_RDWR */, t);

	CHECK(!IS_ERR(f));
	t->magic = TFILE_MAGIC;
	t->refs = 1;
	t->f = f;
	return f;
}

static unsigned int refs(const struct file *f)
{
	return __atomic_load_n(&f->refs, __ATOMIC_RELAXED);
}

/* ---- the table's boot state ---- */

static struct file *console[3];

static void check_fd(int fd, const struct file *want)
{
	struct file *f = fd_get(fd);

	CHECK(f == want);
	if (f)
		file_put(f);
}

/* Records the console files; the table must be in its boot state. */
static void setup(void)
{
	for (int fd = 0; fd < 3 && !console[2]; fd++) {
		console[fd] = fd_get(fd);
		CHECK(console[fd] && console[fd]->ops == &console_file_ops);
		file_put(console[fd]);
	}
	CHECK_EQ(fd_limit(), 1024);
	check_fd(3, NULL);
}

/* Back to the boot state: every other descriptor closed, 0-2 the console. */
static void table_reset(void)
{
	fd_set_limit(FD_MAX);
	for (int fd = 3; fd < FD_MAX; fd++)
		fd_close(fd);
	for (int fd = 0; fd < 3; fd++) {
		struct file *f = fd_get(fd);

		if (f != console[fd]) {
			file_get(console[fd]);
			fd_install_at(console[fd], fd, false);
		}
		if (f)
			file_put(f);
		fd_set_cloexec(fd, false);
	}
	fd_set_limit(1024);
	host_rcu_grace_period();
}

/* Ends a test: the table reset, nothing left to free, no rule broken. */
static void finish(void)
{
	table_reset();
	for (int fd = 0; fd < 3; fd++)
		CHECK_EQ(refs(console[fd]), 2);
	CHECK_EQ(host_rcu_pending(), 0);
	CHECK_EQ(console_release_count(), 0);
	CHECK_EQ(host_kernel_violations(), 0);
}

/* ---- directed tests ---- */

UNIT_TEST(fd_boot_state)
{
	setup();
	for (int fd = 0; fd < 3; fd++) {
		struct file *f = fd_get(fd);

		CHECK(f == console[fd]);
		CHECK_EQ(refs(f), 3);           /* the descriptor's, its own, ours */
		CHECK_EQ(f->flags, fd == 0 ? 0 : 1);
		file_put(f);
		CHECK_EQ(fd_get_cloexec(fd), 0);
	}
	check_fd(3, NULL);
	check_fd(1023, NULL);
	finish();
}

UNIT_TEST(fd_install_lowest)
{
	struct tfile t[7] = { 0 };

	setup();
	for (int i = 0; i < 7; i++)
		tfile_open(&t[i]);
	CHECK_EQ(fd_install(t[0].f, 0, false), 3);
	CHECK_EQ(fd_install(t[1].f, 0, false), 4);
	CHECK_EQ(fd_install(t[2].f, 10, false), 10);
	CHECK_EQ(fd_install(t[3].f, 4, false), 5);      /* 4 taken: the next one */
	CHECK_EQ(fd_close(3), 0);
	CHECK_EQ(t[0].releases, 1);
	CHECK_EQ(fd_install(t[4].f, 0, false), 3);      /* a hole is reused */
	CHECK_EQ(fd_install(t[5].f, 9, false), 9);
	CHECK_EQ(fd_install(t[6].f, 63, false), 63);    /* the last bit of a bitmap word */
	check_fd(3, t[4].f);
	check_fd(4, t[1].f);
	check_fd(5, t[3].f);
	check_fd(6, NULL);
	check_fd(9, t[5].f);
	check_fd(10, t[2].f);
	check_fd(63, t[6].f);
	for (int i = 1; i < 7; i++)
		CHECK_EQ(t[i].releases, 0);
	finish();
	for (int i = 0; i < 7; i++)
		CHECK_EQ(t[i].releases, 1);
}

/* Installs another reference to f at the lowest free descriptor >= min. */
static int install_ref(struct file *f, int min)
{
	int fd;

	file_get(f);
	fd = fd_install(f, min, false);
	if (fd < 0)
		file_put(f);                    /* a failed install leaves it to us */
	return fd;
}

UNIT_TEST(fd_install_chunks)
{
	struct tfile t = { 0 };
	int bad = 0;

	setup();
	tfile_open(&t);
	CHECK_EQ(fd_set_limit(4096), 0);
	for (int fd = 3; fd < 1024; fd++)
		bad += install_ref(t.f, 0) != fd;
	CHECK_EQ(bad, 0);
	CHECK_EQ(install_ref(t.f, 0), 1024);           /* the second chunk's first slot */
	CHECK_EQ(install_ref(t.f, 1000), 1025);
	CHECK_EQ(fd_close(1000), 0);
	CHECK_EQ(install_ref(t.f, 0), 1000);
	CHECK_EQ(fd_close(1023), 0);
	CHECK_EQ(install_ref(t.f, 1001), 1023);        /* the first chunk's last slot */
	CHECK_EQ(install_ref(t.f, 1023), 1026);
	CHECK_EQ(install_ref(t.f, 2047), 2047);        /* the second chunk's last slot */
	CHECK_EQ(install_ref(t.f, 2047), 2048);        /* into the third */
	CHECK_EQ(install_ref(t.f, 3100), 3100);        /* min in a chunk never used */
	CHECK_EQ(install_ref(t.f, 3100), 3101);
	CHECK_EQ(install_ref(t.f, 4095), 4095);        /* the last below the limit */
	CHECK_EQ(install_ref(t.f, 4095), -EMFILE);
	CHECK_EQ(install_ref(t.f, 3000), 3000);
	check_fd(1024, t.f);
	check_fd(1027, NULL);
	check_fd(2046, NULL);
	check_fd(2048, t.f);
	check_fd(2049, NULL);
	check_fd(3099, NULL);
	check_fd(3101, t.f);
	CHECK_EQ(refs(t.f), 1 + 1021 + 11 - 2);        /* ours, 3..1023, then 11 in, 2 out */
	file_put(t.f);
	CHECK_EQ(t.releases, 0);
	finish();
	CHECK_EQ(t.releases, 1);
}

UNIT_TEST(fd_install_limit)
{
	struct tfile t = { 0 };

	setup();
	tfile_open(&t);
	CHECK_EQ(fd_set_limit(0), -EINVAL);
	CHECK_EQ(fd_set_limit(-5), -EINVAL);
	CHECK_EQ(fd_set_limit(FD_MAX + 1), -EINVAL);
	CHECK_EQ(fd_limit(), 1024);
	CHECK_EQ(fd_set_limit(FD_MAX), 0);
	CHECK_EQ(fd_limit(), FD_MAX);
	CHECK_EQ(fd_set_limit(10), 0);
	CHECK_EQ(fd_limit(), 10);
	for (int fd = 3; fd < 10; fd++)
		CHECK_EQ(install_ref(t.f, 0), fd);
	CHECK_EQ(install_ref(t.f, 0), -EMFILE);
	CHECK_EQ(install_ref(t.f, 9), -EMFILE);
	CHECK_EQ(install_ref(t.f, 10), -EMFILE);        /* min at the limit */
	CHECK_EQ(install_ref(t.f, 500), -EMFILE);
	CHECK_EQ(install_ref(t.f, -1), -EINVAL);
	CHECK_EQ(install_ref(t.f, INT_MIN), -EINVAL);
	CHECK_EQ(fd_install_at(t.f, 10, false), -EBADF);
	CHECK_EQ(refs(t.f), 1 + 7);                     /* every failure left our reference */
	CHECK_EQ(fd_close(5), 0);
	CHECK_EQ(install_ref(t.f, 0), 5);

	/* A limit inside a bitmap word: the free bits past it do not count. */
	CHECK_EQ(fd_set_limit(66), 0);
	for (int fd = 10; fd < 66; fd++)
		CHECK_EQ(install_ref(t.f, 0), fd);
	CHECK_EQ(install_ref(t.f, 0), -EMFILE);
	CHECK_EQ(install_ref(t.f, 64), -EMFILE);

	/* Lowered below open descriptors: they stay usable, nothing new goes there. */
	CHECK_EQ(fd_set_limit(4), 0);
	check_fd(65, t.f);
	CHECK_EQ(fd_set_cloexec(65, true), 0);
	CHECK_EQ(fd_get_cloexec(65), 1);
	CHECK_EQ(install_ref(t.f, 0), -EMFILE);
	CHECK_EQ(fd_install_at(t.f, 4, false), -EBADF);
	CHECK_EQ(fd_close(65), 0);
	CHECK_EQ(fd_close(3), 0);
	CHECK_EQ(install_ref(t.f, 0), 3);
	CHECK_EQ(fd_set_limit(1), 0);
	CHECK_EQ(install_ref(t.f, 0), -EMFILE);
	CHECK_EQ(refs(t.f), 1 + 62);                    /* ours, 3..64 */
	file_put(t.f);
	finish();
	CHECK_EQ(t.releases, 1);
}

UNIT_TEST(fd_install_at_replaces)
{
	struct tfile a = { 0 }, b = { 0 }, c = { 0 };
	struct file *g;

	setup();
	tfile_open(&a);
	tfile_open(&b);
	tfile_open(&c);
	CHECK_EQ(fd_install_at(a.f, 7, false), 7);     /* an empty descriptor */
	check_fd(7, a.f);
	CHECK_EQ(fd_install(c.f, 0, false), 3);         /* 7 is not the lowest */
	CHECK_EQ(fd_install_at(b.f, 7, true), 7);      /* dup2 over a: its only reference goes */
	CHECK_EQ(a.releases, 1);
	CHECK_EQ(refs(a.f), 0);                         /* still readable: */
	CHECK(MEM_LIVE(a.f));
	CHECK_EQ(host_rcu_pending(), 1);
	check_fd(7, b.f);
	CHECK_EQ(fd_get_cloexec(7), 1);
	CHECK_EQ(host_rcu_grace_period(), 1);
	CHECK(MEM_FREED(a.f));                              /* freed by the grace period */

	/* The same file over its own descriptor: the reference passed in goes. */
	g = fd_get(7);
	CHECK(g == b.f);
	CHECK_EQ(refs(b.f), 2);
	CHECK_EQ(fd_install_at(g, 7, false), 7);
	CHECK_EQ(refs(b.f), 1);
	CHECK_EQ(b.releases, 0);
	CHECK_EQ(fd_get_cloexec(7), 0);                 /* the new descriptor's flag */

	/* dup2(7, 8), then dup2(8, 7). */
	g = fd_get(7);
	CHECK_EQ(fd_install_at(g, 8, false), 8);
	CHECK_EQ(refs(b.f), 2);
	g = fd_get(8);
	CHECK_EQ(fd_install_at(g, 7, false), 7);
	CHECK_EQ(refs(b.f), 2);

	/* Over another file that is held elsewhere: only its descriptor's reference goes. */
	g = fd_get(3);
	CHECK(g == c.f);
	CHECK_EQ(fd_install_at(g, 8, false), 8);        /* replaces b at 8 */
	CHECK_EQ(refs(b.f), 1);
	CHECK_EQ(refs(c.f), 2);

	/* Out of range: refused, and the caller keeps its reference. */
	file_get(c.f);
	CHECK_EQ(fd_install_at(c.f, -1, false), -EBADF);
	CHECK_EQ(fd_install_at(c.f, INT_MIN, false), -EBADF);
	CHECK_EQ(fd_install_at(c.f, 1024, false), -EBADF);
	CHECK_EQ(fd_install_at(c.f, FD_MAX, false), -EBADF);
	CHECK_EQ(refs(c.f), 3);

	/* A descriptor in a chunk not used yet. */
	CHECK_EQ(fd_set_limit(8192), 0);
	CHECK_EQ(fd_install_at(c.f, 7000, true), 7000);
	check_fd(7000, c.f);
	check_fd(6999, NULL);
	CHECK_EQ(fd_get_cloexec(7000), 1);
	CHECK_EQ(fd_close(7), 0);
	CHECK_EQ(b.releases, 1);
	CHECK_EQ(c.releases, 0);
	finish();
	CHECK_EQ(c.releases, 1);
}

UNIT_TEST(fd_close_bad)
{
	struct tfile a = { 0 };

	setup();
	tfile_open(&a);
	CHECK_EQ(fd_close(-1), -EBADF);
	CHECK_EQ(fd_close(INT_MIN), -EBADF);
	CHECK_EQ(fd_close(FD_MAX), -EBADF);
	CHECK_EQ(fd_close(INT_MAX), -EBADF);
	CHECK_EQ(fd_close(3), -EBADF);                  /* free, in the first chunk */
	CHECK_EQ(fd_close(60000), -EBADF);              /* in a chunk never allocated */
	CHECK(fd_get(-1) == NULL);
	CHECK(fd_get(INT_MIN) == NULL);
	CHECK(fd_get(FD_MAX) == NULL);
	CHECK(fd_get(60000) == NULL);
	CHECK_EQ(fd_install(a.f, 0, false), 3);
	CHECK_EQ(fd_close(3), 0);
	CHECK_EQ(a.releases, 1);
	CHECK_EQ(fd_close(3), -EBADF);                  /* twice */
	check_fd(3, NULL);
	finish();
	CHECK_EQ(a.releases, 1);
}

UNIT_TEST(fd_cloexec)
{
	struct tfile a = { 0 }, b = { 0 };
	struct file *g;

	setup();
	tfile_open(&a);
	tfile_open(&b);
	CHECK_EQ(fd_install(a.f, 0, true), 3);
	CHECK_EQ(fd_get_cloexec(3), 1);
	CHECK_EQ(fd_set_cloexec(3, false), 0);
	CHECK_EQ(fd_get_cloexec(3), 0);
	CHECK_EQ(fd_set_cloexec(3, true), 0);
	CHECK_EQ(fd_get_cloexec(3), 1);
	g = fd_get(3);
	CHECK_EQ(fd_install(g, 0, false), 4);           /* dup: the flag is per descriptor */
	CHECK_EQ(fd_get_cloexec(4), 0);
	CHECK_EQ(fd_get_cloexec(3), 1);
	CHECK_EQ(fd_close(3), 0);
	CHECK_EQ(fd_get_cloexec(3), -EBADF);
	CHECK_EQ(fd_set_cloexec(3, true), -EBADF);
	CHECK_EQ(fd_install(b.f, 0, false), 3);         /* close cleared the flag */
	CHECK_EQ(fd_get_cloexec(3), 0);
	g = fd_get(3);
	CHECK_EQ(fd_install_at(g, 4, true), 4);
	CHECK_EQ(fd_get_cloexec(4), 1);
	CHECK_EQ(a.releases, 1);
	for (int fd = 0; fd < 3; fd++) {
		CHECK_EQ(fd_set_cloexec(fd, true), 0);
		CHECK_EQ(fd_get_cloexec(fd), 1);
	}
	CHECK_EQ(fd_get_cloexec(-1), -EBADF);
	CHECK_EQ(fd_get_cloexec(FD_MAX), -EBADF);
	CHECK_EQ(fd_get_cloexec(60000), -EBADF);
	CHECK_EQ(fd_set_cloexec(-1, true), -EBADF);
	CHECK_EQ(fd_set_cloexec(FD_MAX, false), -EBADF);
	CHECK_EQ(fd_set_cloexec(60000, true), -EBADF);
	CHECK_EQ(fd_set_cloexec(5, true), -EBADF);
	finish();
	CHECK_EQ(b.releases, 1);
}

UNIT_TEST(fd_get_keeps_file)
{
	struct tfile a = { 0 };
	struct file *g, *h;
	unsigned long n;

	setup();
	tfile_open(&a);
	CHECK_EQ(fd_install(a.f, 0, false), 3);
	CHECK_EQ(refs(a.f), 1);
	n = host_rcu_read_sections();
	g = fd_get(3);
	CHECK_EQ(host_rcu_read_sections(), n + 1);      /* the lookup is an RCU reader */
	h = fd_get(3);
	CHECK(g == a.f && h == a.f);
	CHECK_EQ(refs(a.f), 3);
	CHECK_EQ(fd_close(3), 0);
	check_fd(3, NULL);
	CHECK_EQ(refs(a.f), 2);
	file_put(h);
	CHECK_EQ(a.releases, 0);
	CHECK_EQ(host_rcu_grace_period(), 0);           /* nothing to free yet */
	CHECK(MEM_LIVE(a.f));
	CHECK_EQ(g->flags, 2u);                         /* still usable */
	file_put(g);                                    /* the last reference */
	CHECK_EQ(a.releases, 1);
	CHECK_EQ(host_rcu_pending(), 1);
	CHECK_EQ(refs(a.f), 0);                         /* readable until the grace period */
	CHECK_EQ(host_rcu_grace_period(), 1);
	CHECK(MEM_FREED(a.f));
	CHECK_EQ(a.releases, 1);
	finish();
}

UNIT_TEST(file_tryget_zero)
{
	struct tfile a = { 0 };

	setup();
	tfile_open(&a);
	CHECK(file_tryget(a.f));
	CHECK_EQ(refs(a.f), 2);
	file_get(a.f);
	CHECK_EQ(refs(a.f), 3);
	CHECK_EQ(file_poll(a.f), 0x001 | 0x004);        /* no poll op: always ready */
	file_put(a.f);
	file_put(a.f);
	CHECK_EQ(a.releases, 0);
	file_put(a.f);
	CHECK_EQ(a.releases, 1);
	CHECK(!file_tryget(a.f));                       /* a lookup racing the last put */
	CHECK(!file_tryget(a.f));
	CHECK_EQ(refs(a.f), 0);
	CHECK_EQ(a.releases, 1);
	CHECK_EQ(host_rcu_grace_period(), 1);
	finish();
}

UNIT_TEST(fd_console_survives)
{
	struct tfile a = { 0 }, b = { 0 };

	setup();
	tfile_open(&a);
	tfile_open(&b);
	CHECK_EQ(fd_close(0), 0);
	CHECK_EQ(refs(console[0]), 1);                  /* its own reference stays */
	check_fd(0, NULL);
	CHECK_EQ(fd_install(a.f, 0, false), 0);         /* 0 is the lowest free now */
	CHECK_EQ(fd_install_at(b.f, 1, false), 1);     /* dup2 over the console */
	CHECK_EQ(refs(console[1]), 1);
	CHECK_EQ(fd_close(2), 0);
	CHECK_EQ(fd_close(0), 0);
	CHECK_EQ(a.releases, 1);
	for (int fd = 0; fd < 3; fd++) {               /* again and again: never below one */
		file_get(console[fd]);
		CHECK_EQ(fd_install(console[fd], 0, false), 0);
		CHECK_EQ(refs(console[fd]), 2);
		CHECK_EQ(fd_close(0), 0);
		CHECK_EQ(refs(console[fd]), 1);
	}
	CHECK_EQ(host_rcu_grace_period(), 1);           /* a only: the console is never queued */
	CHECK_EQ(console_release_count(), 0);
	check_fd(1, b.f);
	check_fd(2, NULL);
	finish();                                       /* puts the console back */
	check_fd(0, console[0]);
	check_fd(1, console[1]);
	check_fd(2, console[2]);
	CHECK_EQ(b.releases, 1);
}

/* ---- randomized, against a model ---- */

#define MODEL_FDS   2200                /* above every limit the model sets */
#define MODEL_OPS   100000

struct model {
	struct tfile *slot[MODEL_FDS];  /* NULL: free */
	bool cloexec[MODEL_FDS];
	struct tfile *held[MODEL_OPS];  /* references from fd_get */
	int nheld;
	int limit;
	struct tfile console[3];        /* the console files' counts */
	uint64_t rng;
	int op;
	unsigned long emfile, high_fds, released;
};

#define MODEL_EQ(a, b)                                                      \
	do {                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if (a_ != b_) {                                             \
			unit_fail(__FILE__, __LINE__, "op %d: %s == %s (%lld != %lld)", \
				  m->op, #a, #b, a_, b_);                   \
			return false;                                       \
		}                                                           \
	} while (0)

static int model_rand(struct model *m, int n)
{
	return (int)(unit_rand(&m->rng) % (uint64_t)n);
}

/* A descriptor to act on: usually below the limit, sometimes anywhere or bad. */
static int model_fd(struct model *m)
{
	int r = model_rand(m, 100);

	if (r < 2)
		return -1 - model_rand(m, 3);
	if (r < 7)
		return model_rand(m, MODEL_FDS);
	return model_rand(m, m->limit);
}

/* Checks t after an operation: its count, and one release if it reached 0. */
static bool model_settle(struct model *m, struct tfile *t)
{
	if (!t)
		return true;
	if (t->refs > 0) {
		MODEL_EQ(refs(t->f), t->refs);
		MODEL_EQ(__atomic_load_n(&t->releases, __ATOMIC_RELAXED), 0);
		return true;
	}
	MODEL_EQ(t->refs, 0);
	MODEL_EQ(t->releases, 1);
	m->released++;
	free(t);                        /* a second release would touch it: ASan */
	return true;
}

/* A file to install: a new one, or a new reference to one in the table. */
static struct tfile *model_source(struct model *m)
{
	struct tfile *t;
	int fd = model_rand(m, m->limit);

	if (model_rand(m, 2) && fd < MODEL_FDS && m->slot[fd]) {
		t = m->slot[fd];
		file_get(t->f);
		t->refs++;
		return t;
	}
	t = calloc(1, sizeof(*t));
	tfile_open(t);
	return t;
}

static int model_lowest(struct model *m, int min)
{
	if (min < 0)
		return -EINVAL;
	for (int fd = min; fd < m->limit; fd++)
		if (!m->slot[fd])
			return fd;
	return -EMFILE;
}

static bool model_install(struct model *m)
{
	struct tfile *t = model_source(m);
	int min = model_rand(m, 50) ? model_rand(m, m->limit + 8) : -model_rand(m, 3) - 1;
	int want = model_lowest(m, min);
	bool cloexec = model_rand(m, 2);

	MODEL_EQ(fd_install(t->f, min, cloexec), want);
	if (want < 0) {
		m->emfile += want == -EMFILE;
		file_put(t->f);
		t->refs--;
		return model_settle(m, t);
	}
	m->high_fds += want >= 1024;
	m->slot[want] = t;
	m->cloexec[want] = cloexec;
	return model_settle(m, t);
}

static bool model_install_at(struct model *m)
{
	struct tfile *t = model_source(m), *old;
	int fd = model_fd(m);
	bool cloexec = model_rand(m, 2);

	if (fd < 0 || fd >= m->limit) {
		MODEL_EQ(fd_install_at(t->f, fd, cloexec), -EBADF);
		file_put(t->f);
		t->refs--;
		return model_settle(m, t);
	}
	MODEL_EQ(fd_install_at(t->f, fd, cloexec), fd);
	old = m->slot[fd];
	m->slot[fd] = t;
	m->cloexec[fd] = cloexec;
	if (old)
		old->refs--;
	return model_settle(m, t) && (old == t || model_settle(m, old));
}

static bool model_close(struct model *m)
{
	int fd = model_fd(m);
	struct tfile *t;

	if (fd >= 0 && model_rand(m, 5))        /* mostly an open one: the next from fd */
		for (int i = 0; i < m->limit && !m->slot[fd]; i++)
			fd = (fd + 1) % m->limit;
	t = fd >= 0 && fd < MODEL_FDS ? m->slot[fd] : NULL;
	MODEL_EQ(fd_close(fd), t ? 0 : -EBADF);
	if (!t)
		return true;
	m->slot[fd] = NULL;
	m->cloexec[fd] = false;
	t->refs--;
	return model_settle(m, t);
}

static bool model_get(struct model *m)
{
	int fd = model_fd(m);
	struct tfile *t = fd >= 0 && fd < MODEL_FDS ? m->slot[fd] : NULL;
	struct file *f = fd_get(fd);

	MODEL_EQ(f == (t ? t->f : NULL), true);
	if (!t)
		return true;
	t->refs++;
	m->held[m->nheld++] = t;
	return model_settle(m, t);
}

static bool model_put(struct model *m)
{
	int i;
	struct tfile *t;

	if (!m->nheld)
		return model_get(m);
	i = model_rand(m, m->nheld);
	t = m->held[i];
	m->held[i] = m->held[--m->nheld];
	file_put(t->f);
	t->refs--;
	return model_settle(m, t);
}

static bool model_cloexec(struct model *m)
{
	int fd = model_fd(m);
	bool open = fd >= 0 && fd < MODEL_FDS && m->slot[fd];
	bool on = model_rand(m, 2);

	if (model_rand(m, 2)) {
		MODEL_EQ(fd_get_cloexec(fd), open ? m->cloexec[fd] : -EBADF);
		return true;
	}
	MODEL_EQ(fd_set_cloexec(fd, on), open ? 0 : -EBADF);
	if (open)
		m->cloexec[fd] = on;
	return true;
}

static bool model_limit(struct model *m)
{
	static const int limits[] = { 67, 700, 1024, 1090, 2100 };

	m->limit = limits[model_rand(m, ARRAY_SIZE(limits))];
	MODEL_EQ(fd_set_limit(m->limit), 0);
	MODEL_EQ(fd_limit(), m->limit);
	return true;
}

/* Every descriptor and every file's count as the model has them. */
static bool model_check_all(struct model *m)
{
	for (int fd = 0; fd < MODEL_FDS; fd++) {
		struct tfile *t = m->slot[fd];
		struct file *f = fd_get(fd);

		MODEL_EQ(f == (t ? t->f : NULL), true);
		if (f)
			file_put(f);
		MODEL_EQ(fd_get_cloexec(fd), t ? m->cloexec[fd] : -EBADF);
		if (t)
			MODEL_EQ(refs(t->f), t->refs);
	}
	return true;
}

static bool model_step(struct model *m)
{
	int r = model_rand(m, 100);

	if (r < 15)
		return model_install(m);
	if (r < 25)
		return model_install_at(m);
	if (r < 50)
		return model_close(m);
	if (r < 70)
		return model_get(m);
	if (r < 85)
		return model_put(m);
	if (r < 95)
		return model_cloexec(m);
	if (r < 96)
		return model_limit(m);
	host_rcu_grace_period();
	return true;
}

UNIT_TEST(fd_model_random)
{
	struct model *m = calloc(1, sizeof(*m));
	bool ok = true;

	setup();
	m->rng = 0x5eed0f1d;
	m->limit = 1090;
	CHECK_EQ(fd_set_limit(m->limit), 0);
	for (int fd = 0; fd < 3; fd++) {
		m->console[fd] = (struct tfile){ .refs = 2, .f = console[fd] };
		m->slot[fd] = &m->console[fd];
	}
	for (m->op = 0; m->op < MODEL_OPS && ok; m->op++) {
		ok = model_step(m);
		if (ok && m->op % 1000 == 999)
			ok = model_check_all(m);
	}
	CHECK(ok);
	CHECK(m->emfile > 100);                         /* the run reached the limits */
	CHECK(m->high_fds > 100);                       /* and the second chunk */
	CHECK(m->released > 1000);
	printf("#   %d operations, %lu -EMFILE, %lu installs past fd 1023, %lu files released\n",
	       m->op, m->emfile, m->high_fds, m->released);
	while (m->nheld > 0 && ok)
		ok = model_put(m);
	finish();
	/* What the table held went with it: released once, each. */
	for (int fd = 0; fd < MODEL_FDS; fd++) {
		struct tfile *t = m->slot[fd];

		if (!t || (t >= m->console && t < m->console + 3))
			continue;
		for (int k = fd; k < MODEL_FDS; k++)
			if (m->slot[k] == t)
				m->slot[k] = NULL;
		CHECK_EQ(t->releases, 1);
		free(t);
	}
	free(m);
}

/* ---- threads ---- */

#define STRESS_READERS   4
#define STRESS_WRITERS   2
#define STRESS_OPS       50000          /* per writer */
#define STRESS_PACE      4              /* lookups, per writer op */
#define STRESS_POOL      8              /* few: lookups meet closes often */

/* Two of the console's, and both sides of the first chunk boundary. */
static const int stress_pool[STRESS_POOL] = { 1, 2, 3, 4, 1022, 1023, 1024, 1025 };

static bool in_pool(int fd)
{
	for (int i = 0; i < STRESS_POOL; i++)
		if (stress_pool[i] == fd)
			return true;
	return false;
}

struct stress {                         /* all atomic */
	bool stop;
	int readers_started, writers_done;
	unsigned long errors, opened, released, gets, misses;
};

static struct stress st;

struct sfile {
	uint64_t magic;
};

static void stress_error(void)
{
	__atomic_fetch_add(&st.errors, 1, __ATOMIC_RELAXED);
}

static void sfile_release(struct file *f)
{
	struct sfile *s = f->priv;

	if (s->magic != TFILE_MAGIC)
		stress_error();
	s->magic = 0;
	free(s);
	__atomic_fetch_add(&st.released, 1, __ATOMIC_RELAXED);
}

static const struct file_ops sfile_ops = { .release = sfile_release };

static struct file *sfile_open(void)
{
	struct sfile *s = malloc(sizeof(*s));
	struct file *f;

	s->magic = TFILE_MAGIC;
	f = file_alloc(&sfile_ops, 2, s);
	__atomic_fetch_add(&st.opened, 1, __ATOMIC_RELAXED);
	return f;
}

/* A file a lookup returned must be alive: a count, and its priv intact. */
static void stress_use(struct file *f)
{
	if (refs(f) == 0)
		stress_error();
	if (f->ops == &sfile_ops) {
		if (((struct sfile *)f->priv)->magic != TFILE_MAGIC)
			stress_error();
	} else if (f->ops != &console_file_ops) {
		stress_error();
	}
}

static void *stress_reader(void *arg)
{
	uint64_t rng = (uintptr_t)arg;

	__atomic_fetch_add(&st.readers_started, 1, __ATOMIC_RELAXED);
	while (!__atomic_load_n(&st.stop, __ATOMIC_RELAXED)) {
		int fd = stress_pool[unit_rand(&rng) % STRESS_POOL];
		struct file *f = fd_get(fd);

		if (!f) {
			__atomic_fetch_add(&st.misses, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_fetch_add(&st.gets, 1, __ATOMIC_RELAXED);
		stress_use(f);
		if (unit_rand(&rng) % 8 == 0)
			sched_yield();          /* hold it across others' closes */
		stress_use(f);
		file_put(f);
	}
	return NULL;
}

static void stress_write_one(uint64_t *rng)
{
	int fd = stress_pool[unit_rand(rng) % STRESS_POOL];
	struct file *f;
	int r;

	switch (unit_rand(rng) % 4) {
	case 0:
		fd_close(fd);
		break;
	case 1:
		if (fd_install_at(sfile_open(), fd, unit_rand(rng) & 1) != fd)
			stress_error();
		break;
	case 2:                                 /* dup2 from another descriptor */
		f = fd_get(stress_pool[unit_rand(rng) % STRESS_POOL]);
		if (f && fd_install_at(f, fd, false) != fd)
			stress_error();
		break;
	default:                                /* the lowest; closed again if not ours */
		r = fd_install(sfile_open(), fd, false);
		if (r < 0)
			stress_error();
		else if (!in_pool(r) && fd_close(r) != 0)
			stress_error();
	}
}

static void *stress_writer(void *arg)
{
	uint64_t rng = (uintptr_t)arg;

	while (__atomic_load_n(&st.readers_started, __ATOMIC_RELAXED) < STRESS_READERS)
		sched_yield();
	for (unsigned long i = 0; i < STRESS_OPS; i++) {
		while (__atomic_load_n(&st.gets, __ATOMIC_RELAXED) +
		       __atomic_load_n(&st.misses, __ATOMIC_RELAXED) < i * STRESS_PACE)
			sched_yield();          /* the readers keep up, even on one CPU */
		stress_write_one(&rng);
	}
	__atomic_fetch_add(&st.writers_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

UNIT_TEST(fd_threads_stress)
{
	pthread_t readers[STRESS_READERS], writers[STRESS_WRITERS];
	unsigned long grace = 0;

	setup();
	memset(&st, 0, sizeof(st));
	CHECK_EQ(fd_set_limit(2048), 0);
	for (int i = 0; i < STRESS_READERS; i++)
		pthread_create(&readers[i], NULL, stress_reader, (void *)(uintptr_t)(0x1000 + i));
	for (int i = 0; i < STRESS_WRITERS; i++)
		pthread_create(&writers[i], NULL, stress_writer, (void *)(uintptr_t)(0x2000 + i));
	while (__atomic_load_n(&st.writers_done, __ATOMIC_ACQUIRE) < STRESS_WRITERS) {
		grace += host_rcu_grace_period();       /* grace periods all along */
		sched_yield();
	}
	__atomic_store_n(&st.stop, true, __ATOMIC_RELAXED);
	for (int i = 0; i < STRESS_WRITERS; i++)
		pthread_join(writers[i], NULL);
	for (int i = 0; i < STRESS_READERS; i++)
		pthread_join(readers[i], NULL);
	finish();
	CHECK_EQ(st.errors, 0);
	CHECK_EQ(st.released, st.opened);
	CHECK(st.gets + st.misses >= (STRESS_OPS - 1) * STRESS_PACE);
	CHECK(st.gets > STRESS_OPS);
	CHECK(grace > 1000);                    /* frees overlapped the lookups */
	printf("#   %lu files, %lu lookups (%lu empty), %lu freed during the run\n",
	       st.opened, st.gets, st.misses, grace);
}
