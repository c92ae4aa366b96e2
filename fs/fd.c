/*
 * fs/fd.c - the descriptor table.
 *
 * One table per VM.  Descriptors index a two-level array: FD_CHUNKS
 * chunks of FD_PER_CHUNK slots, a chunk allocated the first time a
 * descriptor in it is used and never freed, so a lookup is two loads and
 * takes no lock: fd_get() reads the slot under rcu_read_lock and takes a
 * reference only if the file is still alive (fs/file.c frees files a grace
 * period after their release).  Changes (install, close, dup2, flags) take
 * one mutex; the lowest free descriptor comes from a bitmap.
 *
 * The table starts filled in, with nothing to do at boot: the first chunk
 * is static, and descriptors 0, 1 and 2 are three static console files
 * that keep a reference of their own, so they are never freed.
 */
#include "fs/fs.h"
#include "fs/fs_impl.h"
#include "core/kernel.h"
#include "core/mm.h"

#define FD_PER_CHUNK 1024
#define FD_CHUNKS    (FD_MAX / FD_PER_CHUNK)

struct fd_chunk {
	struct file *slot[FD_PER_CHUNK];
	uint64_t used[FD_PER_CHUNK / 64];       /* reserved or installed */
	uint64_t cloexec[FD_PER_CHUNK / 64];
};

/* refs: the descriptor's, and one never dropped. */
#define CONSOLE_FILE(acc) { .ops = &console_file_ops, .refs = 2, .flags = (acc), \
			   .pos_lock = MUTEX_INIT }

static struct file console_files[3] = {
	CONSOLE_FILE(0 /* O_RDONLY */), CONSOLE_FILE(1 /* O_WRONLY */), CONSOLE_FILE(1),
};
static struct fd_chunk first_chunk = {
	.slot = { &console_files[0], &console_files[1], &console_files[2] },
	.used = { 0x7 },
};
static struct fd_chunk *chunks[FD_CHUNKS] = { &first_chunk };  /* published with release */
static struct mutex table_lock = MUTEX_INIT;
static int soft_limit = 1024;

static struct fd_chunk *chunk_of(int fd)
{
	return __atomic_load_n(&chunks[fd / FD_PER_CHUNK], __ATOMIC_ACQUIRE);
}

/* The chunk for fd, allocated if needed; table_lock held. */
static struct fd_chunk *chunk_for(int fd)
{
	struct fd_chunk *c = chunk_of(fd);

	if (!c) {
		c = calloc(1, sizeof(*c));
		if (c)
			__atomic_store_n(&chunks[fd / FD_PER_CHUNK], c, __ATOMIC_RELEASE);
	}
	return c;
}

static bool bit(const uint64_t *map, int i)
{
	return map[i / 64] >> (i % 64) & 1;
}

static void set_bit_to(uint64_t *map, int i, bool on)
{
	if (on)
		map[i / 64] |= 1ULL << (i % 64);
	else
		map[i / 64] &= ~(1ULL << (i % 64));
}

/* The lowest descriptor >= min that is free, or -EMFILE; table_lock held. */
static int lowest_free(int min)
{
	int limit = fd_limit();

	for (int fd = min; fd < limit; ) {
		struct fd_chunk *c = chunk_for(fd);
		int i = fd % FD_PER_CHUNK;

		if (!c)
			return -ENOMEM;
		uint64_t free_bits = ~c->used[i / 64] & (~0ULL << (i % 64));
		if (free_bits) {
			int found = fd - i % 64 + __builtin_ctzll(free_bits);
			return found < limit ? found : -EMFILE;
		}
		fd += 64 - i % 64;
	}
	return -EMFILE;
}

/* Puts f at fd (which is free or being replaced); returns what was there. */
static struct file *place(int fd, struct file *f, bool cloexec)
{
	struct fd_chunk *c = chunk_of(fd);
	int i = fd % FD_PER_CHUNK;
	struct file *old = c->slot[i];

	set_bit_to(c->used, i, true);
	set_bit_to(c->cloexec, i, cloexec);
	__atomic_store_n(&c->slot[i], f, __ATOMIC_RELEASE);
	return old;
}

int fd_install(struct file *f, int min, bool cloexec)
{
	int fd;

	if (min < 0)
		return -EINVAL;
	WITH_LOCK(&table_lock) {
		fd = lowest_free(min);
		if (fd >= 0)
			place(fd, f, cloexec);
	}
	return fd;
}

int fd_install_at(struct file *f, int fd, bool cloexec)
{
	struct file *old = NULL;

	if (fd < 0 || fd >= fd_limit())
		return -EBADF;
	WITH_LOCK(&table_lock) {
		if (!chunk_for(fd))
			return -ENOMEM;
		old = place(fd, f, cloexec);
	}
	if (old)
		file_put(old);
	return fd;
}

struct file *fd_get(int fd)
{
	struct file *f = NULL;

	if (fd < 0 || fd >= FD_MAX)
		return NULL;
	rcu_read_lock();
	struct fd_chunk *c = chunk_of(fd);
	if (c) {
		f = __atomic_load_n(&c->slot[fd % FD_PER_CHUNK], __ATOMIC_ACQUIRE);
		if (f && !file_tryget(f))
			f = NULL;
	}
	rcu_read_unlock();
	return f;
}

/* The chunk holding open descriptor fd, or NULL (-EBADF); table_lock held. */
static struct fd_chunk *open_chunk(int fd)
{
	struct fd_chunk *c;

	if (fd < 0 || fd >= FD_MAX)
		return NULL;
	c = chunk_of(fd);
	return c && c->slot[fd % FD_PER_CHUNK] ? c : NULL;
}

int fd_close(int fd)
{
	struct file *f = NULL;

	WITH_LOCK(&table_lock) {
		struct fd_chunk *c = open_chunk(fd);
		int i = fd % FD_PER_CHUNK;

		if (!c)
			return -EBADF;
		f = c->slot[i];
		__atomic_store_n(&c->slot[i], NULL, __ATOMIC_RELEASE);
		set_bit_to(c->used, i, false);
		set_bit_to(c->cloexec, i, false);
	}
	file_put(f);
	return 0;
}

int fd_get_cloexec(int fd)
{
	int on = -EBADF;

	WITH_LOCK(&table_lock) {
		struct fd_chunk *c = open_chunk(fd);

		if (c)
			on = bit(c->cloexec, fd % FD_PER_CHUNK);
	}
	return on;
}

/* For listing the table (/proc/self/fd): a chunk at a time, from its bitmap. */
int fd_next(int min)
{
	WITH_LOCK(&table_lock) {
		for (int fd = MAX(min, 0); fd < FD_MAX; ) {
			struct fd_chunk *c = chunk_of(fd);
			int i = fd % FD_PER_CHUNK;
			uint64_t bits = c ? c->used[i / 64] & (~0ULL << (i % 64)) : 0;

			if (bits)
				return fd - i % 64 + __builtin_ctzll(bits);
			fd += c ? 64 - i % 64 : FD_PER_CHUNK - i;
		}
	}
	return -EBADF;
}

int fd_set_cloexec(int fd, bool on)
{
	WITH_LOCK(&table_lock) {
		struct fd_chunk *c = open_chunk(fd);

		if (!c)
			return -EBADF;
		set_bit_to(c->cloexec, fd % FD_PER_CHUNK, on);
	}
	return 0;
}

int fd_limit(void)
{
	return __atomic_load_n(&soft_limit, __ATOMIC_RELAXED);
}

int fd_set_limit(int limit)
{
	if (limit < 1 || limit > FD_MAX)
		return -EINVAL;
	__atomic_store_n(&soft_limit, limit, __ATOMIC_RELAXED);
	return 0;
}
