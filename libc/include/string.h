/* libc/include/string.h - pre-musl: the string functions the kernel provides. */
#ifndef SKIFF_LIBC_STRING_H
#define SKIFF_LIBC_STRING_H

#include <stddef.h>

size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

#endif
