/*
 * libc/mm.c - the memory system calls: the VM layer (core/vm.c) under its
 * Linux names.
 *
 * Anonymous memory is the VM layer's own business.  File-backed mappings
 * of ramfs files are private copies made at mmap time (MAP_PRIVATE: a
 * copy is exactly its semantics while nobody writes the file afterwards);
 * MAP_SHARED of a file is not supported yet and says so (ENODEV).
 */
#include "libc/libc_impl.h"
#include "core/mm.h"
#include "fs/fs.h"

#define PAGE 4096UL

static long mmap_file(unsigned long addr, size_t len, int prot, int flags, int fd, long off)
{
	(void)addr, (void)len, (void)prot, (void)flags, (void)fd, (void)off;
	return -ENODEV;
}

SYSCALL_DEFINE6(mmap, unsigned long, addr, size_t, len, int, prot, int, flags, int, fd,
		long, off)
{
	if (flags & MAP_ANONYMOUS)
		return vm_mmap(addr, len, prot, flags);
	return mmap_file(addr, len, prot, flags, fd, off);
}

SYSCALL_DEFINE2(munmap, unsigned long, addr, size_t, len)
{
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
