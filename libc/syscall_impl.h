/*
 * libc/syscall_impl.h - the system-call table, shared by the generic entry
 * (libc/syscall.c) and the generated table (scripts/syscalls).
 */
#ifndef LIBC_SYSCALL_IMPL_H
#define LIBC_SYSCALL_IMPL_H

#include "libc/abi.h"
#include "libc/syscall.h"

#define SYSCALL_TABLE_SIZE 512          /* above Linux's highest x86-64 number */

typedef long (*syscall_fn)(long, long, long, long, long, long);

extern const syscall_fn syscall_table[SYSCALL_TABLE_SIZE];
extern const char *const syscall_names[SYSCALL_TABLE_SIZE];

#endif
