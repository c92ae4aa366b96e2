# libc/musl/config.mak - musl's own Makefile, driven by Skiff's.
#
# Skiff builds musl (the Debian source package, unpacked pristine into
# build/third_party/musl) with musl's Makefile and this file in place of
# the config.mak that musl's configure would write.  The Makefile passes
# MUSL_SRC (musl's sources), SKIFF_ROOT (this repository) and SKIFF_GEN
# (generated headers).  What differs from a normal musl build:
#
#  - libc/musl/syscall_arch.h is found before musl's own (-iquote comes
#    before -I for "..." includes): every __syscallN is a direct C call
#    into the kernel, not the SYSCALL instruction.
#  - Code model: the image runs in the top 2 GiB with the kernel.
#  - The assembler files that issue SYSCALL themselves (clone, TLS set-up,
#    cancellation points, unmapping a thread's own stack, the signal
#    trampoline, vfork) are dropped: libc/musl/*.c and .S replace them.
#  - musl's malloc is dropped: the kernel's allocator serves the application.

srcdir = $(MUSL_SRC)
ARCH = x86_64
SUBARCH =
CC = gcc
AR = ar
RANLIB = ranlib

CFLAGS_C99FSE = -std=c99 -nostdinc -ffreestanding -fexcess-precision=standard \
	-frounding-math -Wa,--noexecstack
CFLAGS_AUTO = -O2 -pipe -fomit-frame-pointer -fno-unwind-tables \
	-fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections \
	-Wno-pointer-to-int-cast -Werror=implicit-function-declaration \
	-Werror=implicit-int -Werror=pointer-sign -Werror=pointer-arith \
	-Werror=int-conversion -Werror=incompatible-pointer-types
CFLAGS_MEMOPS = -fno-tree-loop-distribute-patterns
CFLAGS_NOSSP = -fno-stack-protector
CPPFLAGS = -iquote $(SKIFF_ROOT)/libc/musl -iquote $(SKIFF_GEN)
CFLAGS = -fno-pic -fno-pie -mcmodel=kernel -fcf-protection=none -g

MALLOC_DIR = none
SHARED_LIBS =

SKIFF_REPLACED = $(addprefix obj/src/,thread/x86_64/clone.o \
	thread/x86_64/__set_thread_area.o thread/x86_64/syscall_cp.o \
	thread/x86_64/__unmapself.o signal/x86_64/restore.o \
	process/x86_64/vfork.o) \
	$(filter-out obj/src/malloc/memalign.o obj/src/malloc/reallocarray.o, \
		$(filter obj/src/malloc/%,$(ALL_OBJS)))
LIBC_OBJS = $(filter-out $(SKIFF_REPLACED),$(filter obj/src/%,$(ALL_OBJS))) \
	$(filter obj/compat/%,$(ALL_OBJS)) obj/src/process/vfork.o
