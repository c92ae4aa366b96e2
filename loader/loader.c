/*
 * loader/loader.c - loads a static executable and starts it (interface:
 * loader/loader.h).
 *
 * The whole file is read into one heap buffer (at most LOADER_FILE_MAX):
 * elf_parse() wants the image in memory, and the segments are copied out
 * of it.  The buffer is freed before the program starts.
 *
 * Segments: each PT_LOAD's pages are mapped anonymous and writable, the
 * file bytes are copied in (the rest is zero already), then each range
 * gets its final permissions; a page two segments share gets both (the
 * parser has checked that is never W and X).  A static PIE goes at
 * LOADER_PIE_BASE (rounded up to its alignment) and relocates itself.
 *
 * The stack: LOADER_STACK_MIN (or PT_GNU_STACK's size, if larger),
 * demand-paged, with a PROT_NONE guard page below, ending at
 * LOADER_STACK_TOP.  From its top down, as Linux's exec lays it out: an
 * 8-byte end marker, the file name (AT_EXECFN), the environment and
 * argument strings, "x86_64" (AT_PLATFORM), 16 random bytes (AT_RANDOM),
 * the program headers when no segment holds them (AT_PHDR), then, 16-byte
 * aligned, argc, argv[], NULL, envp[], NULL and the auxiliary vector.
 *
 * Everything written into the program's memory goes through
 * arch_copy_user: a page that cannot be populated (no memory) is an error
 * return ("out of memory", 126), not a fatal fault.
 */
#include "libc/abi.h"                   /* before core/kernel.h: its __unused */
#include "loader/loader.h"
#include "core/kernel.h"
#include "core/arch.h"
#include "core/mm.h"
#include "fs/fs.h"
#include "libc/libc.h"
#include "libc/syscall.h"

#define PAGE ELF_PAGE_SIZE
#define NAUX 20

struct load {
	const char *path;
	uint8_t *image;                 /* the whole file */
	size_t len;
	struct elf_plan plan;
	uint64_t bias;
	bool mapped, stack_mapped;
	uintptr_t stack_lo;             /* lowest usable stack byte (guard below) */
	uintptr_t vdso;                 /* where the vDSO was put (AT_SYSINFO_EHDR) */
};

static int fail(const struct load *ld, int status, const char *why)
{
	printk("skiff: exec %s: %s\n", ld->path, why);
	return status;
}

/* --- the file --- */

static int check_file(struct load *ld, struct file *f, const char **why)
{
	struct stat st;

	if (vfs_fstat(f, &st))
		return *why = "cannot stat", -EIO;
	if (S_ISDIR(st.st_mode))
		return *why = "is a directory", -EISDIR;
	if (!S_ISREG(st.st_mode))
		return *why = "not a regular file", -EACCES;
	if (!(st.st_mode & 0111))
		return *why = "permission denied (not executable)", -EACCES;
	if ((uint64_t)st.st_size > LOADER_FILE_MAX)
		return *why = "larger than 64 MiB", -EFBIG;
	ld->len = (size_t)st.st_size;
	return 0;
}

/* Reads the file into ld->image: 0, or an exit status after the message. */
static int read_file(struct load *ld)
{
	const char *why = NULL;
	struct file *f = vfs_open(ld->path, O_RDONLY, 0);
	int err;

	if (IS_ERR(f)) {
		err = (int)PTR_ERR(f);
		if (err == -ENOENT || err == -ENOTDIR)
			return fail(ld, ELF_EXIT_NOT_FOUND, "no such file");
		if (err == -ENOMEM)
			return fail(ld, ELF_EXIT_CANNOT_EXEC, "out of memory");
		return fail(ld, ELF_EXIT_CANNOT_EXEC, "cannot open");
	}
	if ((err = check_file(ld, f, &why)))
		goto out_put;
	ld->image = malloc(ld->len ? ld->len : 1);
	if (!ld->image) {
		why = "out of memory (reading the file)";
		goto out_put;
	}
	for (size_t done = 0; done < ld->len;) {
		long n = vfs_read_kernel(f, ld->image + done, ld->len - done, done);
		if (n <= 0) {
			why = n == 0 ? "the file shrank while read" : "read error";
			goto out_free;
		}
		done += (size_t)n;
	}
	file_put(f);
	return 0;

out_free:
	free(ld->image);
	ld->image = NULL;
out_put:
	file_put(f);
	return fail(ld, ELF_EXIT_CANNOT_EXEC, why);
}

/* --- the segments --- */

static int vm_prot(uint32_t elf_prot)
{
	return ((elf_prot & ELF_PROT_R) ? VM_PROT_READ : 0) |
	       ((elf_prot & ELF_PROT_W) ? VM_PROT_WRITE : 0) |
	       ((elf_prot & ELF_PROT_X) ? VM_PROT_EXEC : 0);
}

/* The pages [*a, *b) segment s occupies, after the bias. */
static void seg_pages(const struct load *ld, const struct elf_segment *s, uint64_t *a, uint64_t *b)
{
	*a = ALIGN_DOWN(s->vaddr + ld->bias, PAGE);
	*b = ALIGN_UP(s->vaddr + ld->bias + s->memsz, PAGE);
}

static int choose_bias(struct load *ld)
{
	ld->bias = 0;
	if (ld->plan.pie)
		ld->bias = ALIGN_UP(LOADER_PIE_BASE, ld->plan.align);
	return elf_bias_ok(&ld->plan, ld->bias) ? 0 : -EINVAL;
}

/* Maps every segment's pages writable (a page already mapped by an
 * earlier segment is left as it is) and copies the file bytes in. */
static int map_segments(struct load *ld)
{
	const struct elf_plan *p = &ld->plan;
	uint64_t a, b;

	for (unsigned int i = 0; i < p->nload; i++) {
		seg_pages(ld, &p->load[i], &a, &b);
		for (unsigned int j = 0; j < i; j++) {      /* a shared first or last page */
			uint64_t ja, jb;
			seg_pages(ld, &p->load[j], &ja, &jb);
			if (ja <= a && a < jb)
				a = jb;
			if (ja < b && b <= jb)
				b = ja;
		}
		if (a < b) {
			long r = vm_mmap(a, b - a, VM_PROT_READ | VM_PROT_WRITE,
					 VM_MAP_FIXED | VM_MAP_PRIVATE | VM_MAP_ANONYMOUS);
			if (r < 0)
				return (int)r;
			ld->mapped = true;
		}
	}
	for (unsigned int i = 0; i < p->nload; i++) {
		const struct elf_segment *s = &p->load[i];
		if (arch_copy_user((void *)(uintptr_t)(s->vaddr + ld->bias), ld->image + s->offset,
				   s->filesz))
			return -ENOMEM;         /* a fresh mapping: only a page that could not be had */
	}
	return 0;
}

/* Gives each segment its permissions, then a page two segments share both. */
static int protect_segments(struct load *ld)
{
	const struct elf_plan *p = &ld->plan;
	uint64_t a, b, ja, jb;
	int err;

	for (unsigned int i = 0; i < p->nload; i++) {
		seg_pages(ld, &p->load[i], &a, &b);
		if ((err = vm_mprotect(a, b - a, vm_prot(p->load[i].prot))))
			return err;
	}
	for (unsigned int i = 0; i < p->nload; i++) {
		seg_pages(ld, &p->load[i], &a, &b);
		for (unsigned int j = i + 1; j < p->nload; j++) {
			seg_pages(ld, &p->load[j], &ja, &jb);
			uint64_t lo = MAX(a, ja), hi = MIN(b, jb);
			if (lo < hi && (err = vm_mprotect(lo, hi - lo,
							  vm_prot(p->load[i].prot | p->load[j].prot))))
				return err;
		}
	}
	return 0;
}

static void unmap_segments(struct load *ld)
{
	uint64_t a, b;

	for (unsigned int i = 0; ld->mapped && i < ld->plan.nload; i++) {
		seg_pages(ld, &ld->plan.load[i], &a, &b);
		vm_munmap(a, b - a);
	}
	ld->mapped = false;
}

/* --- the stack --- */

static uint64_t stack_size(const struct load *ld)
{
	uint64_t want = ALIGN_UP(MIN(ld->plan.stack_size, LOADER_STACK_MAX), PAGE);

	return MAX(want, LOADER_STACK_MIN);
}

static int map_stack(struct load *ld)
{
	uint64_t size = stack_size(ld), lo = LOADER_STACK_TOP - size;
	int prot = VM_PROT_READ | VM_PROT_WRITE | (ld->plan.exec_stack ? VM_PROT_EXEC : 0);
	int flags = VM_MAP_FIXED_NOREPLACE | VM_MAP_PRIVATE | VM_MAP_ANONYMOUS;
	long r;

	r = vm_mmap(lo - PAGE, PAGE, 0, flags);                    /* the guard page */
	if (r < 0)
		return (int)r;
	r = vm_mmap(lo, size, prot, flags | VM_MAP_STACK | VM_MAP_NORESERVE);
	if (r < 0) {
		vm_munmap(lo - PAGE, PAGE);
		return (int)r;
	}
	ld->stack_mapped = true;
	ld->stack_lo = lo;
	return 0;
}

static void unmap_stack(struct load *ld)
{
	if (ld->stack_mapped)
		vm_munmap(ld->stack_lo - PAGE, LOADER_STACK_TOP - ld->stack_lo + PAGE);
	ld->stack_mapped = false;
}

/* Writing the stack from its top down; err keeps the first error. */
struct stack_writer {
	uintptr_t sp, floor;
	int err;
};

static uintptr_t push(struct stack_writer *w, const void *p, size_t n, size_t align)
{
	uintptr_t sp = ALIGN_DOWN(w->sp - n, align);

	if (w->err)
		return 0;
	if (n > w->sp - w->floor || sp < w->floor) {
		w->err = -E2BIG;
		return 0;
	}
	if (arch_copy_user((void *)sp, p, n)) {
		w->err = -ENOMEM;
		return 0;
	}
	w->sp = sp;
	return sp;
}

static uintptr_t push_string(struct stack_writer *w, const char *s)
{
	return push(w, s, strlen(s) + 1, 1);
}

/* Fills v (room for n words) with argc, argv, envp and the auxv. */
static void fill_vector(size_t *v, int argc, const uintptr_t *argp, int envc,
			const uintptr_t *envp, const size_t aux[][2], size_t naux)
{
	size_t i = 0;

	v[i++] = (size_t)argc;
	for (int a = 0; a < argc; a++)
		v[i++] = argp[a];
	v[i++] = 0;
	for (int e = 0; e < envc; e++)
		v[i++] = envp[e];
	v[i++] = 0;
	for (size_t k = 0; k < naux; k++) {
		v[i++] = aux[k][0];
		v[i++] = aux[k][1];
	}
}

/* Writes the strings and the vectors; the final stack pointer, or 0 with
 * *err set. */
static uintptr_t build_stack(struct load *ld, int argc, char **argv, int *err)
{
	const struct elf_plan *p = &ld->plan;
	struct stack_writer w = { .sp = LOADER_STACK_TOP, .floor = LOADER_STACK_TOP - 256 * 1024 };
	const char **env;
	int envc = libc_environment(&env);
	uintptr_t *strs = calloc((size_t)argc + (size_t)envc + 1, sizeof(uintptr_t));
	uint8_t random[16];
	uint64_t zero = 0;

	if (!strs)
		return *err = -ENOMEM, 0;
	push(&w, &zero, sizeof(zero), 8);                           /* the end marker */
	uintptr_t execfn = push_string(&w, ld->path);
	for (int e = envc - 1; e >= 0; e--)
		strs[argc + e] = push_string(&w, env[e]);
	for (int a = argc - 1; a >= 0; a--)
		strs[a] = push_string(&w, argv[a]);
	uintptr_t platform = push_string(&w, "x86_64");
	random_bytes(random, sizeof(random));
	uintptr_t at_random = push(&w, random, sizeof(random), 16);
	uintptr_t phdr = p->phdr.vaddr + ld->bias;
	if (!p->phdr.mapped)
		phdr = push(&w, ld->image + p->phdr.offset, (size_t)p->phdr.num * p->phdr.entsize, 8);

	const size_t aux[][2] = {
		{ AT_HWCAP, arch_hwcap() }, { AT_PAGESZ, PAGE }, { AT_CLKTCK, 100 },
		{ AT_PHDR, phdr }, { AT_PHENT, p->phdr.entsize }, { AT_PHNUM, p->phdr.num },
		{ AT_BASE, 0 }, { AT_FLAGS, 0 }, { AT_ENTRY, p->entry + ld->bias },
		{ AT_UID, 0 }, { AT_EUID, 0 }, { AT_GID, 0 }, { AT_EGID, 0 }, { AT_SECURE, 0 },
		{ AT_RANDOM, at_random }, { AT_HWCAP2, 0 }, { AT_EXECFN, execfn },
		{ AT_PLATFORM, platform }, { AT_SYSINFO_EHDR, ld->vdso }, { AT_NULL, 0 },
	};
	BUILD_ASSERT(ARRAY_SIZE(aux) <= NAUX);
	size_t n = 1 + (size_t)argc + 1 + (size_t)envc + 1 + 2 * ARRAY_SIZE(aux);
	size_t *v = calloc(n, sizeof(size_t));
	if (v) {
		fill_vector(v, argc, strs, envc, strs + argc, aux, ARRAY_SIZE(aux));
		/* 16-byte aligned at argc: the ABI's rsp at a process's entry. */
		push(&w, v, n * sizeof(size_t), 16);
	} else if (!w.err) {
		w.err = -ENOMEM;
	}
	free(v);
	free(strs);
	*err = w.err;
	return w.err ? 0 : w.sp;
}

/* --- the vDSO (arch/x86_64/vdso): time without the SYSCALL instruction --- */

extern const char vdso_image[], vdso_image_end[];
extern const uint64_t vdso_entries_offset;
long vdso_clock_gettime(long, long), vdso_gettimeofday(long, long), vdso_time(long);
long sys_getcpu(long, long, long);

/* A copy of the image with its table of kernel functions filled in, then
 * read-only and executable.  Without memory the program gets no vDSO and
 * its libc falls back to system calls. */
static void map_vdso(struct load *ld)
{
	size_t size = (size_t)(vdso_image_end - vdso_image);
	long at = vm_mmap(0, size, VM_PROT_READ | VM_PROT_WRITE, VM_MAP_PRIVATE | VM_MAP_ANONYMOUS);
	const void *entries[] = {
		(void *)vdso_clock_gettime, (void *)vdso_gettimeofday, (void *)vdso_time, (void *)sys_getcpu,
	};

	if (at < 0)
		return;
	if (copy_to_user((void *)at, vdso_image, size) ||
	    copy_to_user((void *)(at + vdso_entries_offset), entries, sizeof(entries)) ||
	    vm_mprotect((uintptr_t)at, size, VM_PROT_READ | VM_PROT_EXEC)) {
		vm_munmap((uintptr_t)at, size);
		return;
	}
	ld->vdso = (uintptr_t)at;
}

/* --- the whole --- */

static struct loader_image started;     /* written once, before it runs */
static bool image_known;                /* atomic: started is written */

static void image_record(const struct load *ld)
{
	for (unsigned int i = 0; i < ld->plan.nload; i++) {
		const struct elf_segment *s = &ld->plan.load[i];
		uint64_t in_page;

		seg_pages(ld, s, &started.seg[i].start, &started.seg[i].end);
		in_page = s->vaddr + ld->bias - started.seg[i].start;
		started.seg[i].offset = s->offset >= in_page ? s->offset - in_page : 0;
	}
	started.nseg = ld->plan.nload;
	started.vdso = ld->vdso;
	__atomic_store_n(&image_known, true, __ATOMIC_RELEASE);
}

bool loader_image_get(struct loader_image *img)
{
	if (!__atomic_load_n(&image_known, __ATOMIC_ACQUIRE))
		return false;
	*img = started;
	return true;
}

static int load_fail(struct load *ld, int err, const char *why)
{
	unmap_stack(ld);
	unmap_segments(ld);
	free(ld->image);
	ld->image = NULL;
	return fail(ld, ELF_EXIT_CANNOT_EXEC, err == -ENOMEM ? "out of memory" : why);
}

int loader_run(const char *path, int argc, char **argv)
{
	struct load ld = { .path = path };
	const char *why = NULL;
	uintptr_t sp;
	int err, status;

	if ((status = read_file(&ld)))
		return status;
	if ((err = elf_parse(ld.image, ld.len, &ld.plan, &why))) {
		free(ld.image);
		return fail(&ld, elf_exit_status(err), why);
	}
	if (choose_bias(&ld))
		return load_fail(&ld, -EINVAL, "no room for its segments");
	if ((err = map_segments(&ld)))
		return load_fail(&ld, err, "cannot map its segments");
	if ((err = protect_segments(&ld)))
		return load_fail(&ld, err, "cannot protect its segments");
	if ((err = map_stack(&ld)))
		return load_fail(&ld, err, "cannot map its stack");
	map_vdso(&ld);
	sp = build_stack(&ld, argc, argv, &err);
	if (!sp)
		return load_fail(&ld, err, "arguments and environment too large");
	uintptr_t entry = ld.plan.entry + ld.bias;
	image_record(&ld);
	free(ld.image);
	libc_exec(entry, sp, ld.stack_lo, LOADER_STACK_TOP);
}
