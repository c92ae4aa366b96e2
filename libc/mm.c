/*
 * libc/mm.c - the memory system calls: the VM layer (core/vm.c) under its
 * Linux names.
 *
 * Anonymous memory is the VM layer's own business; file-backed mappings are
 * copies (mmap_file below).
 */
#include "libc/libc_impl.h"
#include "core/mm.h"
#include "fs/fs.h"

#define PAGE 4096UL

/* A private mapping of a file: anonymous memory with the file's contents
 * copied in at mmap time.  For MAP_PRIVATE that is the semantics exactly,
 * except that later writes to the file are not seen through the mapping
 * (Linux leaves that unspecified until the page is first written).  A
 * shared read-only mapping is the same copy; a shared writable one would
 * need the page cache to be mapped directly, and is refused (ENODEV).
 * Bytes past the end of the file read as zeros (Linux: SIGBUS for pages
 * wholly past it). */
static long mmap_file(unsigned long addr, size_t len, int prot, int flags, int fd, long off)
{
	struct file *f;
	long at;

	if (off & (PAGE - 1) || off < 0)
		return -EINVAL;
	if ((flags & MAP_SHARED) && (prot & PROT_WRITE))
		return -ENODEV;
	f = fd_get(fd);
	if (!f)
		return -EBADF;
	if ((f->flags & O_ACCMODE) == O_WRONLY) {
		file_put(f);
		return -EACCES;
	}
	if (!f->vnode) {
		file_put(f);
		return -ENODEV;                 /* pipes, eventfds, sockets */
	}
	flags = (flags & ~(MAP_SHARED | MAP_SHARED_VALIDATE)) | MAP_PRIVATE | MAP_ANONYMOUS;
	at = vm_mmap(addr, len, PROT_READ | PROT_WRITE, flags);
	if (at >= 0) {
		long got = vfs_read_kernel(f, (void *)at, len, (uint64_t)off);
		long err = got < 0 ? got : vm_mprotect((uintptr_t)at, len, prot);
		if (err < 0) {
			vm_munmap((uintptr_t)at, len);
			at = err;
		}
	}
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
	/* Private and anonymous memory has nothing to write back. */
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
