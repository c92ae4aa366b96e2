/*
 * loader/loader.h - running an unmodified static Linux x86-64 executable
 * from the filesystem: the loader's public header.
 *
 * Interface: loader_run(path, argc, argv) reads the executable at path
 * (from the VFS: the initramfs), checks it with elf_parse() (loader/elf.h),
 * maps its segments into the application's half of the address space,
 * builds a Linux process stack (argc, argv, envp, the auxiliary vector,
 * the strings) and starts the program as the application's main thread
 * (libc_exec).  It never returns then.  When the program cannot be run it
 * prints one line, "skiff: exec PATH: REASON", undoes what it mapped and
 * returns the status a shell would give: 127 for a missing file or a
 * dynamically linked program, 126 for anything else (not a regular file,
 * no execute permission, not a valid x86-64 executable, out of memory).
 *
 * The environment is the kernel command line's KEY=VALUE options
 * (libc_environment()).  Context: the application's main thread, once,
 * before any application code has run.
 */
#ifndef LOADER_LOADER_H
#define LOADER_LOADER_H

#include "loader/elf.h"

#define LOADER_FILE_MAX   (64ull << 20)         /* largest executable read */
#define LOADER_STACK_MIN  (8ull << 20)          /* the main stack, as Linux's rlimit */
#define LOADER_STACK_MAX  (1ull << 30)          /* PT_GNU_STACK asks at most this */
#define LOADER_PIE_BASE   0x555555554000ull     /* a static PIE's bias, as Linux's */
#define LOADER_STACK_TOP  0x00007fffffe00000ull /* the main stack ends here */

int loader_run(const char *path, int argc, char **argv);

/* Where the program loader_run started lies, for /proc/self/maps: false if
 * none was (the application is linked into the image).  Each segment's
 * pages [start, end) hold the file's bytes from offset on. */
struct loader_image {
	unsigned int nseg;
	struct {
		uint64_t start, end, offset;
	} seg[ELF_LOAD_MAX];
	uint64_t vdso;                  /* where the vDSO starts; 0: none */
};
bool loader_image_get(struct loader_image *img);

#endif
