/*
 * libc/libc.h - the system-call layer and the application's start: the one
 * header the rest of the kernel includes from libc/.
 *
 * Interface: libc_start(argc, argv) runs the application's main() through
 * musl's __libc_start_main on the calling thread (its main thread) and
 * never returns: the application ends with exit(), and with it the VM.
 * How system calls are written is in libc/syscall.h.
 */
#ifndef LIBC_LIBC_H
#define LIBC_LIBC_H

__attribute__((noreturn)) void libc_start(int argc, char **argv);

#endif
