/*
 * fs/fs_impl.h - what the files of fs/ share and nothing else sees.
 */
#ifndef FS_FS_IMPL_H
#define FS_FS_IMPL_H

#include "fs/fs.h"

/* A reference unless the count already reached zero (a lock-free lookup
 * racing with the last file_put). */
bool file_tryget(struct file *f);

/* The console as a file: descriptors 0, 1 and 2, and /dev/console. */
extern const struct file_ops console_file_ops;

#endif
