/*
 * fs/path.c - splitting paths and splicing link targets (see fs/path.h).
 * Pure C, tested on the host (tests/unit/test_path.c).
 */
#include "fs/path.h"
#include "core/errno.h"

#ifdef SKIFF_HOST_TEST
#include <string.h>
#else
#include "core/kernel.h"
#endif

const char *path_next(const char **p, size_t *len, int *err)
{
	const char *s = *p, *name;

	*err = 0;
	while (*s == '/')
		s++;
	name = s;
	while (*s && *s != '/')
		s++;
	*p = s;
	*len = (size_t)(s - name);
	if (*len == 0)
		return NULL;
	if (*len > NAME_MAX_LEN)
		*err = -ENAMETOOLONG;
	return name;
}

bool path_at_end(const char *p)
{
	while (*p == '/')
		p++;
	return *p == 0;
}

enum path_kind path_kind(const char *name, size_t len)
{
	if (len == 1 && name[0] == '.')
		return PATH_DOT;
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return PATH_DOTDOT;
	return PATH_NAME;
}

int path_splice(char *buf, size_t size, size_t rest, const char *target)
{
	size_t tlen = strlen(target), rlen = strlen(buf + rest);

	if (tlen + rlen + 1 > size || tlen + rlen > PATH_MAX_LEN)
		return -ENAMETOOLONG;
	memmove(buf + tlen, buf + rest, rlen + 1);
	memcpy(buf, target, tlen);
	return 0;
}
