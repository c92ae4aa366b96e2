/*
 * libc/abi.h - the Linux x86-64 system-call ABI: structures, flags and
 * numbers, exactly as applications see them.
 *
 * They come from Debian's linux-libc-dev (the kernel's own uapi headers),
 * so Skiff's layout of struct stat, struct epoll_event and the rest is
 * Linux's by construction, not a transcription.  Kernel code that takes or
 * fills these structures includes this header; nothing else should.
 */
#ifndef LIBC_ABI_H
#define LIBC_ABI_H

#include <stdint.h>

/* <asm/stat.h> has a field named __unused, which core/kernel.h defines
 * as an attribute: set that aside while the uapi headers are read. */
#pragma push_macro("__unused")
#undef __unused
#include <asm/ioctls.h>
#include <asm/stat.h>
#include <asm/unistd_64.h>
#include <linux/auxvec.h>
#include <linux/eventpoll.h>
#include <linux/fcntl.h>
#include <linux/futex.h>
#include <linux/mman.h>
#include <linux/poll.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/stat.h>
#include <linux/sysinfo.h>
#include <linux/time_types.h>
#include <linux/timerfd.h>
#include <linux/uio.h>
#include <linux/utsname.h>
#pragma pop_macro("__unused")

/* Not in the uapi headers (they live in glibc's and musl's). */
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define SEEK_DATA 3
#define SEEK_HOLE 4

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

#define DT_UNKNOWN 0
#define DT_FIFO    1
#define DT_CHR     2
#define DT_DIR     4
#define DT_BLK     6
#define DT_REG     8
#define DT_LNK     10
#define DT_SOCK    12

#define EFD_SEMAPHORE 1
#define EFD_CLOEXEC   O_CLOEXEC
#define EFD_NONBLOCK  O_NONBLOCK

#define LINUX_PATH_MAX 4096
#define LINUX_NAME_MAX 255

#endif
