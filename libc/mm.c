/*
 * libc/mm.c - the memory system calls: the VM layer (core/vm.c) under its
 * Linux names.
 *
 * Anonymous memory is the VM layer's own business; a private file mapping
 * is a copy, a shared one maps the file's pages (mmap_file below).
 */
#include "libc/libc_impl.h"
#include "core/mm.h"
#include "fs/fs.h"

#define PAGE 4096UL

/* A private mapping of a file: anonymous memory with the file's contents
 * copied in at mmap time.  For MAP_PRIVATE that is the semantics exactly,
 * except that later writes to the file are not seen through the mapping
 * (Linux leaves that unspecified until the page is first written).  Bytes
 * past the end of the file read as zeros (Linux: SIGBUS for pages wholly
 * past it). */
static long mmap_private(struct file *f, unsigned long addr, size_t len, int prot, int flags,
			 long off)
{
	long at, got, err;

	flags = (flags & ~MAP_TYPE) | MAP_PRIVATE | MAP_ANONYMOUS;
	at = vm_mmap(addr, len, PROT_READ | PROT_WRITE, flags);
	if (at < 0)
		return at;
	got = vfs_read_kernel(f, (void *)at, len, (uint64_t)off);
	err = got < 0 ? got : vm_mprotect((uintptr_t)at, len, prot);
	if (err < 0) {
		vm_munmap((uintptr_t)at, len);
		return err;
	}
	return at;
}

/* A shared mapping maps the file's own pages (core/vm_file.c): stores are
 * the file's data at once, and what write(2) stores shows through it. */
static long mmap_shared(struct file *f, unsigned long addr, size_t len, int prot, int flags,
			long off)
{
	struct vnode *v = vfs_map_get(f);
	long at;

	if (IS_ERR(v))
		return PTR_ERR(v);
	flags = (flags & ~MAP_TYPE) | MAP_SHARED;
	at = vm_mmap_file(addr, len, prot, flags, v, (uint64_t)off,
			  (f->flags & O_ACCMODE) == O_RDWR);
	if (at < 0)
		vfs_map_put(v);
	return at;
}

static long mmap_file(unsigned long addr, size_t len, int prot, int flags, int fd, long off)
{
	int type = flags & MAP_TYPE;
	struct file *f;
	long at;

	if (off & (PAGE - 1) || off < 0)
		return -EINVAL;
	if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	f = fd_get(fd);
	if (!f)
		return -EBADF;
	if ((f->flags & O_ACCMODE) == O_WRONLY)
		at = -EACCES;
	else if (!f->vnode)
		at = -ENODEV;                   /* pipes, eventfds, sockets */
	else if (type == MAP_PRIVATE)
		at = mmap_private(f, addr, len, prot, flags, off);
	else
		at = mmap_shared(f, addr, len, prot, flags, off);
	file_put(f);
	return at;
}

SYSCALL_DEFINE6(mmap, unsigned long, addr, size_t, len, int, prot, int, flags, int, fd,
		long, off)
{
	if (flags & MAP_ANONYMOUS)
		return vm_mmap(addr, len, prot, flags);
	return mmap_file(addr, len, prot, flags, fd, off);
}

/* Unmapping the stack this call runs on waits for the thread's exit
 * (libc_unmap_at_exit: musl's __unmapself in an unmodified binary). */
SYSCALL_DEFINE2(munmap, unsigned long, addr, size_t, len)
{
	if (len && !(addr & (PAGE_SIZE - 1)) && arch_stack_pointer() - addr < len &&
	    libc_unmap_at_exit(addr, len))
		return 0;
	return vm_munmap(addr, len);
}

SYSCALL_DEFINE3(mprotect, unsigned long, addr, size_t, len, int, prot)
{
	return vm_mprotect(addr, len, prot);
}

SYSCALL_DEFINE3(madvise, unsigned long, addr, size_t, len, int, advice)
{
	return vm_madvise(addr, len, advice);
}

SYSCALL_DEFINE5(mremap, unsigned long, old, size_t, old_len, size_t, new_len, int, flags,
		unsigned long, new_addr)
{
	(void)new_addr;
	if (flags & ~VM_MREMAP_MAYMOVE)
		return -EINVAL;                 /* MREMAP_FIXED, DONTUNMAP: not yet */
	return vm_mremap(old, old_len, new_len, flags);
}

SYSCALL_DEFINE3(msync, unsigned long, addr, size_t, len, int, flags)
{
	uintptr_t s, e;

	(void)flags;
	if (addr & (PAGE - 1))
		return -EINVAL;
	/* Nothing to write back: a shared mapping is the file's memory. */
	return len == 0 || vm_find(addr, &s, &e) == 0 ? 0 : -ENOMEM;
}

SYSCALL_DEFINE2(mlock, unsigned long, addr, size_t, len)
{
	return vm_madvise(addr & ~(PAGE - 1), len + (addr & (PAGE - 1)), VM_MADV_WILLNEED);
}

SYSCALL_DEFINE2(munlock, unsigned long, addr, size_t, len)
{
	(void)addr, (void)len;
	return 0;                               /* nothing is ever paged out */
}

SYSCALL_DEFINE1(mlockall, int, flags) { (void)flags; return 0; }
SYSCALL_DEFINE0(munlockall) { return 0; }
