/*
 * fs/procfs_impl.h - what the two halves of /proc share: fs/procfs.c (the
 * machine, and the table of the whole tree) and fs/procfs_self.c (the
 * application, /proc/self).  Generators follow ksnprintf's contract (they
 * write at most size bytes and return the length they needed).
 */
#ifndef FS_PROCFS_IMPL_H
#define FS_PROCFS_IMPL_H

#include "fs/vfs_impl.h"

/* ksnprintf at buf + *pos, counting what did not fit too. */
__printf(4, 5) void procfs_put(char *buf, size_t size, size_t *pos, const char *fmt, ...);

size_t procfs_mounts(char *buf, size_t size);

/* /proc/self (fs/procfs_self.c) */
size_t procfs_self_cmdline(char *buf, size_t size);
size_t procfs_self_environ(char *buf, size_t size);
size_t procfs_self_comm(char *buf, size_t size);
size_t procfs_self_exe(char *buf, size_t size);        /* the link's target */
size_t procfs_self_maps(char *buf, size_t size);
size_t procfs_self_status(char *buf, size_t size);
size_t procfs_self_stat(char *buf, size_t size);
size_t procfs_self_statm(char *buf, size_t size);
extern const struct synth_dir procfs_self_fd;           /* fd/N: a link per descriptor */

#endif
