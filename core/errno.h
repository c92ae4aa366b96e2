/*
 * core/errno.h - Linux errno values: the kernel returns -E... everywhere; the
 * syscall layer hands them to applications unchanged.
 *
 * Host test builds (-DSKIFF_HOST_TEST) take the host's <errno.h> instead, so
 * kernel code compiled into tests agrees with the C library it links against.
 */
#ifndef CORE_ERRNO_H
#define CORE_ERRNO_H

#ifdef SKIFF_HOST_TEST
#include <errno.h>
#else
#define EPERM           1
#define ENOENT          2
#define ESRCH           3
#define EINTR           4
#define EIO             5
#define ENXIO           6
#define E2BIG           7
#define ENOEXEC         8
#define EBADF           9
#define ECHILD          10
#define EAGAIN          11
#define ENOMEM          12
#define EACCES          13
#define EFAULT          14
#define EBUSY           16
#define EEXIST          17
#define EXDEV           18
#define ENODEV          19
#define ENOTDIR         20
#define EISDIR          21
#define EINVAL          22
#define ENFILE          23
#define EMFILE          24
#define ENOTTY          25
#define EFBIG           27
#define ENOSPC          28
#define ESPIPE          29
#define EROFS           30
#define EMLINK          31
#define EPIPE           32
#define EDOM            33
#define ERANGE          34
#define EDEADLK         35
#define ENAMETOOLONG    36
#define ENOSYS          38
#define ENOTEMPTY       39
#define ELOOP           40
#define ENODATA         61
#define ETIME           62
#define EOVERFLOW       75
#define EILSEQ          84
#define ENOTSOCK        88
#define EMSGSIZE        90
#define EPROTONOSUPPORT 93
#define EOPNOTSUPP      95
#define EAFNOSUPPORT    97
#define EADDRINUSE      98
#define EADDRNOTAVAIL   99
#define ENETDOWN        100
#define ENETUNREACH     101
#define ECONNABORTED    103
#define ECONNRESET      104
#define ENOBUFS         105
#define EISCONN         106
#define ENOTCONN        107
#define ETIMEDOUT       110
#define ECONNREFUSED    111
#define EHOSTUNREACH    113
#define EALREADY        114
#define EINPROGRESS     115
#define ECANCELED       125
#endif

/* Kernel-internal, never seen by applications (Linux's value): a blocking
 * call a signal interrupted, to be restarted after the handler when the
 * handler's action has SA_RESTART, else ended with -EINTR (libc/syscall.h). */
#define ERESTARTSYS     512

#endif
