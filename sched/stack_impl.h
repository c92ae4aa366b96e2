/*
 * sched/stack_impl.h - thread stacks.
 *
 * Interface: stack_alloc(size) returns the lowest address of a stack of
 * `size` bytes (a power of two from 16 KiB to STACK_MAX), or NULL;
 * stack_free() gives it back (it may run with interrupts off).
 */
#ifndef SCHED_STACK_IMPL_H
#define SCHED_STACK_IMPL_H

#include <stddef.h>

#define STACK_MIN (16 * 1024)
#define STACK_MAX (1024 * 1024)

void *stack_alloc(size_t size);
void stack_free(void *stack, size_t size);

#endif
