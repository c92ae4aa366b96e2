/*
 * fs/path.h - the pure string work of path resolution: splitting a path
 * into components and splicing a symbolic link's target into what is left
 * to resolve.  Private to fs/ (the walker in fs/namei.c uses it); pure C,
 * tested on the host (tests/unit/test_path.c).
 *
 * Interface:
 *   path_next(&p, &len, &err) skips the slashes at p and returns the
 *   component that starts there (len bytes; NULL at the end of the path),
 *   leaving p just past it; err is -ENAMETOOLONG for a component longer
 *   than NAME_MAX (255 bytes).
 *   path_at_end(p) says whether only slashes remain; path_kind() tells ".",
 *   ".." and ordinary names apart.  path_splice() replaces the part of a
 *   buffer before rest with a link's target, so "a/link/b" resolving "link"
 *   to "x/y" continues as "x/y/b" (the leading and trailing slashes of
 *   rest, which mean "a directory follows", are kept).
 */
#ifndef FS_PATH_H
#define FS_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define PATH_MAX_LEN  4095              /* bytes, without the NUL (PATH_MAX - 1) */
#define NAME_MAX_LEN  255               /* bytes of one component */

enum path_kind { PATH_NAME, PATH_DOT, PATH_DOTDOT };

/* The next component at or after *p, or NULL at the end; *p moves past it.
 * Returns -ENAMETOOLONG in *err (else 0) for a component over NAME_MAX. */
const char *path_next(const char **p, size_t *len, int *err);
bool path_at_end(const char *p);
enum path_kind path_kind(const char *name, size_t len);

/* buf (size bytes) holds a path; the bytes from rest on are kept and what
 * precedes them becomes target.  0, or -ENAMETOOLONG when it would not fit. */
int path_splice(char *buf, size_t size, size_t rest, const char *target);

#endif
