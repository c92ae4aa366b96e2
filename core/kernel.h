/*
 * core/kernel.h - what every kernel file needs: printk, panic, assertions,
 * error pointers, and the freestanding string functions.
 *
 * Interface: printk() writes to the console (serial); panic() is for
 * unrecoverable boot-time conditions only (it never returns and ends the VM
 * with the panic status); ASSERT() states an invariant and is compiled in
 * debug builds (the default).  Functions that return a pointer return NULL
 * or ERR_PTR(-Exxx); test with IS_ERR() and recover with PTR_ERR().
 */
#ifndef CORE_KERNEL_H
#define CORE_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errno.h"

#define ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)      ((a) < (b) ? (a) : (b))
#define MAX(a, b)      ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a)   (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#ifndef container_of
#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))
#endif

#define __noreturn   __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __unused     __attribute__((unused))
#define likely(x)    __builtin_expect(!!(x), 1)
#define unlikely(x)  __builtin_expect(!!(x), 0)

/* Error pointers: the top 4095 addresses are never valid objects. */
#define MAX_ERRNO 4095
static inline void *ERR_PTR(long err) { return (void *)err; }
static inline long PTR_ERR(const void *p) { return (long)p; }
static inline bool IS_ERR(const void *p)
{
	return (uintptr_t)p >= (uintptr_t)-MAX_ERRNO;
}

/* printk.c */
__printf(1, 2) void printk(const char *fmt, ...);
void vprintk(const char *fmt, va_list ap);
__printf(3, 4) int ksnprintf(char *buf, size_t size, const char *fmt, ...);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void console_write(const char *s, size_t len);

/* panic.c */
__noreturn __printf(1, 2) void panic(const char *fmt, ...);
__noreturn void assert_fail(const char *expr, const char *file, int line);

#ifndef NDEBUG
#define ASSERT(e) ((e) ? (void)0 : assert_fail(#e, __FILE__, __LINE__))
#else
#define ASSERT(e) ((void)0)
#endif
#define BUILD_ASSERT(e) _Static_assert(e, #e)

/* string.c: the freestanding C string functions the compiler may call. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);

/* main.c: records a named boot step's time; `bootlog` prints them. */
void boot_mark(const char *name);

/* random.c: random bytes (the CPU's generator, else a TSC-seeded one); 0. */
int random_bytes(void *buf, size_t n);

/* ksym.c: the kernel's own symbol table, for backtraces. */
const char *ksym_lookup(uintptr_t addr, uintptr_t *offset);

#endif
