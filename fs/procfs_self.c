/*
 * fs/procfs_self.c - /proc/self: the application as Linux shows a process
 * to itself.  One application per VM, so one process: the VM.
 *
 *   cmdline, environ   NUL-separated: the arguments, and the environment
 *                      it started with (the KEY=VALUE kernel options)
 *   comm               its name: the executable's last component, 15 bytes
 *   exe                a link to the executable: exec='s path (made
 *                      absolute); an application linked into the image has
 *                      no file of its own and links to argv[0], its name
 *   maps               its mappings (vm_walk): [heap] for the heap's
 *                      blocks; an executable's segments (named as exe
 *                      links, with their file offsets), [vdso] and
 *                      [stack]; then the image an application is linked
 *                      into (text, read-only data, data and bss)
 *   status, stat, statm   ids, threads, signals, memory (below)
 *   fd/N               a link per open descriptor: the file's path, or
 *                      Linux's pipe:[N], anon_inode:[eventfd], ...
 *   mounts             the mount table (fs/procfs.c)
 *
 * Names.  A path is rebuilt from a vnode's name and parent, as getcwd
 * does; ramfs keeps those for directories and regular files (the name a
 * file was created or last renamed with), so an fd link reads the path; a
 * vnode with no name reads "inode:[N]".  A link made for a removed file or
 * directory ends in " (deleted)".  maps names a shared file mapping's file
 * too: a first walk over the mappings takes a reference on each file (the
 * first 16), their paths are found with the VM's lock released (a path
 * walk takes locks that may not be taken under it), and a second walk
 * formats.
 *
 * Memory.  The VM is the process: its resident memory (VmRSS) is every
 * frame handed out, the kernel's and the heap's included (a static
 * program's libc is part of it too), less the files' data, which Linux
 * counts as page cache unless mapped (RssShmem).  Most of the heap lies
 * outside the mappings, so VmRSS may exceed VmSize, which adds up the
 * lines of maps.  No swap, no shared libraries: VmSwap and VmLib are 0.
 *
 * Out of scope: /proc/<pid> (self is a directory, not a link to it),
 * task/, fdinfo/, mountinfo, smaps, auxv, limits, cgroup, io; VmPeak,
 * VmHWM, VmLck, capabilities and the context switch counts (not kept);
 * fields of stat nothing keeps are 0, and its utime is the CPU time of
 * the threads still alive.  Following an fd link walks its target as a
 * path: it does not reopen the file itself as Linux's do (pipe:[N] does
 * not resolve).
 */
#include "fs/procfs_impl.h"
#include "core/arch.h"
#include "core/cmdline.h"
#include "core/mm.h"
#include "libc/libc.h"
#include "loader/loader.h"

#define put procfs_put

#define COMM_MAX 15                     /* Linux's TASK_COMM_LEN - 1 */
#define MAPS_NAME_COLUMN 73             /* where Linux starts a mapping's name */
#define CLOCK_TICK_NS 10000000UL        /* AT_CLKTCK: 100 per second */

extern const char __kernel_start[], __text_end[], __rodata_start[], __rodata_end[];
extern const char __data_start[], __data_end[];

/* --- names: arguments, environment, executable --- */

static const char *exec_path(void)
{
	return cmdline_option(kernel_cmdline(), "exec");
}

/* NUL after each string, as the process's memory holds them. */
static size_t put_strings(char *buf, size_t size, const char *const *s, int n)
{
	size_t pos = 0;

	for (int i = 0; i < n; i++) {
		const char *a = s[i] ? s[i] : "";
		size_t len = strlen(a) + 1;

		if (pos + len <= size)
			memcpy(buf + pos, a, len);
		pos += len;
	}
	return pos;
}

size_t procfs_self_cmdline(char *buf, size_t size)
{
	const struct cmdline *cl = kernel_cmdline();

	return put_strings(buf, size, (const char *const *)cl->argv, cl->argc + 1);
}

size_t procfs_self_environ(char *buf, size_t size)
{
	const char **env;
	int n = libc_environment(&env);

	return put_strings(buf, size, env, n);
}

size_t procfs_self_exe(char *buf, size_t size)
{
	const char *path = exec_path();
	const char *argv0 = kernel_cmdline()->argv[0];

	if (path)                               /* the loader opened it from / */
		return (size_t)ksnprintf(buf, size, "%s%s", path[0] == '/' ? "" : "/", path);
	return (size_t)ksnprintf(buf, size, "%s", argv0 ? argv0 : "");
}

/* The executable's last component, COMM_MAX bytes at most (a newline,
 * which would end status's line, as '?'). */
static void comm_get(char name[COMM_MAX + 1])
{
	const char *path = exec_path() ? exec_path() : kernel_cmdline()->argv[0];
	const char *base = path ? path : "";
	size_t n = 0;

	for (const char *p = base; *p; p++)
		if (*p == '/' && p[1])
			base = p + 1;
	for (; base[n] && base[n] != '/' && n < COMM_MAX; n++)
		name[n] = base[n] == '\n' ? '?' : base[n];
	name[n] = 0;
}

size_t procfs_self_comm(char *buf, size_t size)
{
	char name[COMM_MAX + 1];

	comm_get(name);
	return (size_t)ksnprintf(buf, size, "%s\n", name);
}

/* --- fd/: a link per descriptor --- */

/* Names never change where nothing can be renamed or removed (devfs,
 * procfs): read without the locks getcwd takes. */
static bool names_fixed(const struct vnode *v)
{
	return !v->ops->rename && !v->ops->unlink;
}

/* Prepends "/name" of v at *p (buf is its start); *deleted if v is. */
static int prepend_name(struct vnode *v, char *buf, char **p, bool *deleted)
{
	size_t len;

	if (!v->name)
		return -ENOENT;                 /* no name kept (a symbolic link, a root) */
	if (!names_fixed(v))
		WITH_LOCK(&v->lock)
			*deleted |= v->nlink == 0;
	len = strlen(v->name);
	if ((size_t)(*p - buf) < len + 1)
		return -ENAMETOOLONG;
	*p -= len;
	memcpy(*p, v->name, len);
	*--*p = '/';
	return 0;
}

/* One step towards the root: v's name prepended, and its parent (across
 * a mount point) as a new reference, or NULL with *err set. */
static struct vnode *step_up(struct vnode *v, char *buf, char **p, bool *deleted, int *err)
{
	struct mutex *rename_lock = names_fixed(v) ? NULL : &v->mount->rename_lock;
	struct vnode *up;

	if (v == v->mount->root) {
		vnode_get(v->mount->covered);
		return v->mount->covered;
	}
	if (rename_lock)
		mutex_lock(rename_lock);
	*err = prepend_name(v, buf, p, deleted);
	up = *err ? NULL : v->parent;
	if (up)
		vnode_get(up);
	if (rename_lock)
		mutex_unlock(rename_lock);
	return up;
}

/* v's absolute path at the start of buf (size > 1): its length, or
 * -ENOENT (no name), -ENAMETOOLONG. */
static long vnode_path(struct vnode *v, char *buf, size_t size, bool *deleted)
{
	char *end = buf + size, *p = end - 1;
	int err = 0;

	*p = 0;
	*deleted = false;
	vnode_get(v);
	while (v && v != vfs_root()) {
		struct vnode *up = step_up(v, buf, &p, deleted, &err);

		vnode_put(v);
		v = up;
	}
	if (v)
		vnode_put(v);
	if (err)
		return err;
	if (p == end - 1)
		*--p = '/';                     /* the root itself */
	memmove(buf, p, (size_t)(end - p));
	return end - 1 - p;
}

/* What f is, as /proc/self/fd shows it (0 without memory: no entry). */
static size_t file_name(struct file *f, char *buf, size_t size)
{
	char *path;
	bool deleted;
	long len;

	if (!f->vnode && f->ops->name && strcmp(f->ops->name, "pipe") == 0)
		return (size_t)ksnprintf(buf, size, "pipe:[%lu]", (uintptr_t)f->priv >> 4);
	if (!f->vnode)
		return (size_t)ksnprintf(buf, size, "%s", f->ops->name ? f->ops->name
							    : "anon_inode:[unknown]");
	path = malloc(PATH_MAX_LEN + 1);
	if (!path)
		return 0;
	len = vnode_path(f->vnode, path, PATH_MAX_LEN + 1, &deleted);
	if (len < 0)
		len = (long)ksnprintf(buf, size, "inode:[%lu]", f->vnode->ino);
	else
		len = (long)ksnprintf(buf, size, "%s%s", path, deleted ? " (deleted)" : "");
	free(path);
	return (size_t)len;
}

static size_t fd_link(int fd, char *buf, size_t size)
{
	struct file *f = fd_get(fd);
	size_t len;

	if (!f)
		return 0;
	len = file_name(f, buf, size);
	file_put(f);
	return len;
}

/* Following fd/N opens what descriptor N has open, even if its name is
 * gone or now names another file; a pipe or eventfd has no vnode to give
 * (Linux could reopen it): ENXIO. */
static struct vnode *fd_open(int fd)
{
	struct file *f = fd_get(fd);
	struct vnode *v;

	if (!f)
		return ERR_PTR(-ENOENT);
	v = f->vnode ? f->vnode : ERR_PTR(-ENXIO);
	if (f->vnode)
		vnode_get(v);
	file_put(f);
	return v;
}

const struct synth_dir procfs_self_fd = {
	.next = fd_next,
	.link = fd_link,
	.open = fd_open,
};

/* --- maps --- */

/* The image the application is linked into, which vm_walk does not list;
 * an executable the loader ran (exec=) has its segments mapped instead. */
static size_t image_regions(struct vm_region r[3])
{
	if (exec_path())
		return 0;
	r[0] = (struct vm_region){ .start = (uintptr_t)__kernel_start, .end = (uintptr_t)__text_end,
				   .prot = VM_PROT_READ | VM_PROT_EXEC, .flags = VM_MAP_PRIVATE };
	r[1] = (struct vm_region){ .start = (uintptr_t)__rodata_start,
				   .end = (uintptr_t)__rodata_end,
				   .prot = VM_PROT_READ, .flags = VM_MAP_PRIVATE };
	r[2] = (struct vm_region){ .start = (uintptr_t)__data_start, .end = (uintptr_t)__data_end,
				   .prot = VM_PROT_READ | VM_PROT_WRITE, .flags = VM_MAP_PRIVATE };
	return 3;
}

/* The stack the loader made for an executable's main thread. */
static bool main_stack(const struct vm_region *r)
{
	return !r->file && !r->heap && r->end == LOADER_STACK_TOP && exec_path();
}

#define MAPS_FILES 16

struct maps {
	char *buf;
	size_t size, pos;
	char exe[256];                  /* the image's name */
	bool loaded;                    /* the loader's program: img */
	struct loader_image img;
	/* Mapped files and their paths, found before the walk that formats
	 * (a path walk may not run under the VM's lock): a reference each. */
	struct vnode *file[MAPS_FILES];
	char *path[MAPS_FILES];
	unsigned int nfiles;
};

static void maps_line(struct maps *m, const struct vm_region *r, uint64_t offset,
		      const char *name)
{
	const struct vnode *v = r->file;
	size_t start = m->pos;

	put(m->buf, m->size, &m->pos, "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ",
	    r->start, r->end, (r->prot & VM_PROT_READ) ? 'r' : '-',
	    (r->prot & VM_PROT_WRITE) ? 'w' : '-', (r->prot & VM_PROT_EXEC) ? 'x' : '-',
	    (r->flags & VM_MAP_SHARED) ? 's' : 'p', v ? r->offset : offset,
	    0u, v ? v->mount->dev : 0u, v ? v->ino : 0UL);
	if (name)
		put(m->buf, m->size, &m->pos, "%*s%s",
		    (int)(MAPS_NAME_COLUMN - MIN(m->pos - start, MAPS_NAME_COLUMN)), "", name);
	put(m->buf, m->size, &m->pos, "\n");
}

/* The first pass, with the VM's lock held: the mapped files, referenced
 * (an atomic increment; no lock). */
static int maps_file(const struct vm_region *r, void *arg)
{
	struct maps *m = arg;

	if (!r->file || m->nfiles == MAPS_FILES)
		return 0;
	for (unsigned int i = 0; i < m->nfiles; i++)
		if (m->file[i] == r->file)
			return 0;
	vnode_get(r->file);
	m->file[m->nfiles++] = r->file;
	return 0;
}

/* Then, without it: their paths (" (deleted)" as fd/ shows them). */
static void maps_paths(struct maps *m)
{
	char *buf = malloc(PATH_MAX_LEN + 16);
	bool deleted;

	for (unsigned int i = 0; i < m->nfiles; i++) {
		long len = buf ? vnode_path(m->file[i], buf, PATH_MAX_LEN + 1, &deleted) : -ENOMEM;

		m->path[i] = NULL;
		if (len > 0 && (m->path[i] = malloc((size_t)len + 11)))
			ksnprintf(m->path[i], (size_t)len + 11, "%s%s", buf,
				  deleted ? " (deleted)" : "");
	}
	free(buf);
}

static void maps_release(struct maps *m)
{
	for (unsigned int i = 0; i < m->nfiles; i++) {
		free(m->path[i]);
		vnode_put(m->file[i]);
	}
}

static const char *maps_file_path(const struct maps *m, const void *file)
{
	for (unsigned int i = 0; i < m->nfiles; i++)
		if (m->file[i] == file)
			return m->path[i];
	return NULL;                            /* mapped since the first pass */
}

/* With the VM's lock held: it only formats into the snapshot's buffer. */
static int maps_region(const struct vm_region *r, void *arg)
{
	struct maps *m = arg;
	const struct loader_image *img = &m->img;

	if (r->file)
		maps_line(m, r, 0, maps_file_path(m, r->file));
	else if (r->heap)
		maps_line(m, r, 0, "[heap]");
	else if (main_stack(r))
		maps_line(m, r, 0, "[stack]");
	else if (m->loaded && img->vdso && r->start == img->vdso)
		maps_line(m, r, 0, "[vdso]");
	else {
		for (unsigned int i = 0; m->loaded && !r->file && i < img->nseg; i++) {
			if (img->seg[i].start <= r->start && r->start < img->seg[i].end) {
				maps_line(m, r, img->seg[i].offset + (r->start - img->seg[i].start),
					  m->exe);
				return 0;
			}
		}
		maps_line(m, r, 0, NULL);
	}
	return 0;
}

size_t procfs_self_maps(char *buf, size_t size)
{
	struct maps m = { .buf = buf, .size = size };
	struct vm_region image[3];
	size_t n = image_regions(image);

	m.loaded = loader_image_get(&m.img);
	procfs_self_exe(m.exe, sizeof(m.exe));
	vm_walk(maps_file, &m);
	maps_paths(&m);
	vm_walk(maps_region, &m);
	maps_release(&m);
	for (size_t i = 0; i < n; i++)          /* above every mapping */
		maps_line(&m, &image[i], 0, m.exe);
	return m.pos;
}

/* --- status, stat, statm --- */

/* The lines of maps added up, in bytes. */
struct vm_sum {
	uint64_t size;                  /* VmSize: all of them */
	uint64_t data;                  /* VmData: private and writable, not the stack */
	uint64_t stack;                 /* VmStk: the main stack, when the loader made it */
	uint64_t exec;                  /* VmExe: executable (the program's text, the vDSO) */
	uint64_t start_code, end_code;  /* the image's text, when it is linked in */
};

static void sum_region(struct vm_sum *s, const struct vm_region *r)
{
	uint64_t len = r->end - r->start;

	s->size += len;
	if (main_stack(r))
		s->stack += len;
	else if ((r->prot & VM_PROT_WRITE) && !(r->flags & VM_MAP_SHARED))
		s->data += len;
	if (r->prot & VM_PROT_EXEC)
		s->exec += len;
}

static int sum_mapping(const struct vm_region *r, void *arg)
{
	sum_region(arg, r);
	return 0;
}

static void vm_sum_get(struct vm_sum *s)
{
	struct vm_region image[3];
	size_t n = image_regions(image);

	*s = (struct vm_sum){ 0 };
	vm_walk(sum_mapping, s);
	for (size_t i = 0; i < n; i++)
		sum_region(s, &image[i]);
	if (n) {
		s->start_code = image[0].start;
		s->end_code = image[0].end;
	}
}

/* Resident memory, in bytes (the header says what it counts). */
struct rss {
	uint64_t anon, shmem;
};

static void rss_get(struct rss *r)
{
	struct mm_stats ms;
	struct vm_stats vs;
	uint64_t files = ramfs_pages() * PAGE_SIZE;

	mm_stats(&ms);
	vm_get_stats(&vs);
	r->anon = ms.used_bytes > files ? ms.used_bytes - files : 0;
	r->shmem = vs.file_pages * PAGE_SIZE;
}

/* Linux's bitmap: 32-bit groups, high first, the first as wide as it needs. */
static void put_cpu_mask(char *buf, size_t size, size_t *pos, unsigned int n)
{
	int top = (int)(n + 31) / 32 - 1;

	for (int g = top; g >= 0; g--) {
		unsigned int bits = MIN(n - (unsigned int)g * 32, 32u);
		uint32_t mask = bits == 32 ? 0xffffffffu : (1u << bits) - 1;

		put(buf, size, pos, "%0*x%s", g == top ? (int)(bits + 3) / 4 : 8, mask,
		    g ? "," : "");
	}
}

static void put_cpus(char *buf, size_t size, size_t *pos)
{
	unsigned int n = __atomic_load_n(&ncpus_online, __ATOMIC_ACQUIRE);

	put(buf, size, pos, "Cpus_allowed:\t");
	put_cpu_mask(buf, size, pos, n);
	put(buf, size, pos, "\nCpus_allowed_list:\t0");
	if (n > 1)
		put(buf, size, pos, "-%u", n - 1);
	put(buf, size, pos, "\nMems_allowed_list:\t0\n");
}

#define KB(x) ((x) >> 10)

size_t procfs_self_status(char *buf, size_t size)
{
	char name[COMM_MAX + 1];
	struct libc_process p;
	struct vm_sum s;
	struct rss r;
	size_t pos = 0;

	comm_get(name);
	libc_process_get(&p);
	vm_sum_get(&s);
	rss_get(&r);
	put(buf, size, &pos, "Name:\t%s\nUmask:\t%04o\nState:\tR (running)\n", name, vfs_umask());
	put(buf, size, &pos, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t0\nTracerPid:\t0\n",
	    p.pid, p.pid);
	put(buf, size, &pos, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n");
	put(buf, size, &pos, "VmSize:\t%8lu kB\nVmRSS:\t%8lu kB\n", KB(s.size),
	    KB(r.anon + r.shmem));
	put(buf, size, &pos, "RssAnon:\t%8lu kB\nRssFile:\t%8lu kB\nRssShmem:\t%8lu kB\n",
	    KB(r.anon), 0UL, KB(r.shmem));
	put(buf, size, &pos, "VmData:\t%8lu kB\nVmStk:\t%8lu kB\nVmExe:\t%8lu kB\n",
	    KB(s.data), KB(s.stack), KB(s.exec));
	put(buf, size, &pos, "VmLib:\t%8lu kB\nVmSwap:\t%8lu kB\n", 0UL, 0UL);
	put(buf, size, &pos, "Threads:\t%d\n", p.threads);
	/* Signals sent to the process go to one of its threads: none shared. */
	put(buf, size, &pos, "SigPnd:\t%016lx\nShdPnd:\t%016lx\nSigBlk:\t%016lx\n",
	    p.sig_pending, 0UL, p.sig_blocked);
	put(buf, size, &pos, "SigIgn:\t%016lx\nSigCgt:\t%016lx\n", p.sig_ignored, p.sig_caught);
	put_cpus(buf, size, &pos);
	return pos;
}

/* One line of 52 fields (proc_pid_stat(5)); what nothing keeps is 0. */
size_t procfs_self_stat(char *buf, size_t size)
{
	char name[COMM_MAX + 1];
	struct libc_process p;
	struct vm_stats vs;
	struct vm_sum s;
	struct rss r;
	size_t pos = 0;

	comm_get(name);
	libc_process_get(&p);
	vm_get_stats(&vs);
	vm_sum_get(&s);
	rss_get(&r);
	/* pid comm state ppid pgrp session tty_nr tpgid flags minflt cminflt
	 * majflt cmajflt utime stime cutime cstime priority nice num_threads
	 * itrealvalue starttime vsize rss rsslim */
	put(buf, size, &pos, "%d (%s) R 0 %d %d 0 -1 0 %lu 0 0 0 %lu 0 0 0 20 0 %d 0 0 %lu %lu %lu ",
	    p.pid, name, p.pid, p.pid, vs.faults - vs.bad_faults, p.cpu_ns / CLOCK_TICK_NS,
	    p.threads, s.size, (r.anon + r.shmem) / PAGE_SIZE, ~0UL);
	/* startcode endcode startstack kstkesp kstkeip signal blocked sigignore
	 * sigcatch wchan nswap cnswap exit_signal processor, then 13 zeros:
	 * rt_priority policy delayacct_blkio_ticks guest_time cguest_time
	 * start_data end_data start_brk arg_start arg_end env_start env_end
	 * exit_code */
	put(buf, size, &pos, "%lu %lu 0 0 0 %lu %lu %lu %lu 0 0 0 17 %u 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
	    s.start_code, s.end_code, p.sig_pending, p.sig_blocked, p.sig_ignored, p.sig_caught,
	    this_cpu()->id);
	return pos;
}

/* size resident shared text lib data dt, in pages. */
size_t procfs_self_statm(char *buf, size_t size)
{
	struct vm_sum s;
	struct rss r;

	vm_sum_get(&s);
	rss_get(&r);
	return (size_t)ksnprintf(buf, size, "%lu %lu %lu %lu 0 %lu 0\n", s.size / PAGE_SIZE,
				 (r.anon + r.shmem) / PAGE_SIZE, r.shmem / PAGE_SIZE,
				 s.exec / PAGE_SIZE, s.data / PAGE_SIZE);
}
