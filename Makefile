# Skiff - one plain GNU Makefile.
#
#   make            build the default image, build/kernel.elf (hello app)
#   make run        boot it under QEMU (scripts/run; ARGS="..." RUNFLAGS="--smp 4")
#   make check      every test: host unit tests, in-kernel tests, boot tests
#   make iso        build/skiff.iso: the same kernel booted by GRUB
#   make bench      the benchmarks in bench/, results in bench/RESULTS.md
#   make APP=dir    link the application in dir/*.c instead of apps/hello
#   make INITRD=file.cpio  link a cpio (newc) archive into the image: unpacked at boot
#   make third-party  fetch musl and lwIP sources (Debian source packages)
#
# Options: make CONFIG_MAX_CPUS=n, BUILD=dir (out-of-tree objects),
#          ISO_CMDLINE='...' (the command line grub.cfg passes),
#          ISO_INITRD=file.cpio (a boot module grub.cfg loads).

BUILD ?= build
APP ?= apps/hello
APP_NAME ?= $(notdir $(APP))
CONFIG_MAX_CPUS ?= 64

CC := gcc
LD := ld
OBJCOPY := objcopy
NM := nm
STRIP := strip

DEPFLAGS = -MMD -MP
WARN := -Wall -Wextra -Werror -Wno-override-init   # THREAD_ATTR(.cpu = 1) overrides a default
OPT ?= -Os
KCFLAGS := -std=gnu11 $(OPT) -g $(WARN) -ffreestanding -fno-pic -fno-pie \
	-mcmodel=kernel -mno-red-zone -fno-stack-protector -fno-omit-frame-pointer -fno-optimize-sibling-calls \
	-fno-asynchronous-unwind-tables -fno-delete-null-pointer-checks \
	-fcf-protection=none -I. -DCONFIG_MAX_CPUS=$(CONFIG_MAX_CPUS)
# Applications are ordinary C against musl's headers: the red zone is
# theirs (every interrupt uses an IST stack).
# Third-party sources and musl are shared by every configuration (BUILD=...).
THIRD_PARTY ?= build/third_party
MUSL_SRC ?= $(THIRD_PARTY)/musl
MUSL ?= build/musl
# The kernel code model would read a stack-protector canary at %gs:40 (a
# per-CPU field here); the guard flags point it at musl's, %fs:40.
ACFLAGS := -std=gnu11 -O2 -g $(WARN) -fno-pic -fno-pie -mcmodel=kernel \
	-mstack-protector-guard=tls -mstack-protector-guard-reg=fs -mstack-protector-guard-offset=40 \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fcf-protection=none \
	-nostdinc -isystem $(MUSL)/include -isystem $(shell $(CC) -print-file-name=include)
LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
	-T arch/x86_64/linker.ld

KERNEL_SRC := $(wildcard arch/x86_64/*.c arch/x86_64/*.S core/*.c sched/*.c fs/*.c libc/*.c loader/*.c)
LIBC_OBJ := $(BUILD)/libc/gen/syscall_table.o \
	$(patsubst %,$(BUILD)/%.o,$(wildcard libc/musl/*.c libc/musl/*.S))
LIBC_OBJ += $(BUILD)/vdso/vdso_image.o
LIBC_A := $(MUSL)/lib/libc.a
LIBGCC := $(shell $(CC) -print-libgcc-file-name)
KERNEL_OBJ := $(patsubst %,$(BUILD)/%.o,$(KERNEL_SRC)) $(LIBC_OBJ)
APP_OBJ := $(patsubst %,$(BUILD)/%.o,$(wildcard $(APP)/*.c)) $(BUILD)/app_name.o
TEST_OBJ := $(patsubst %,$(BUILD)/%.o,$(wildcard tests/kernel/*.c)) $(BUILD)/test_name.o
BENCH_OBJ := $(patsubst %,$(BUILD)/%.o,$(wildcard bench/kernel/*.c)) $(BUILD)/bench_name.o

.PHONY: all run check iso bench unit clean deps
all: $(BUILD)/kernel.elf

deps:
	@scripts/deps

# --- compiling (a change of flags rebuilds everything: $(BUILD)/flags) ---
$(BUILD)/flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(KCFLAGS) $(ACFLAGS) $(LDFLAGS)' | cmp -s - $@ || echo '$(KCFLAGS) $(ACFLAGS) $(LDFLAGS)' > $@

$(BUILD)/%.c.o: %.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) $(DEPFLAGS) -c $< -o $@

# The system-call layer is every application call's path: speed over size.
$(BUILD)/libc/%.c.o: KCFLAGS += -O2

$(BUILD)/%.S.o: %.S $(BUILD)/flags
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) $(DEPFLAGS) -D__ASSEMBLER__ -c $< -o $@

$(BUILD)/$(APP)/%.c.o: $(APP)/%.c $(BUILD)/flags | $(MUSL)/include/.installed
	@mkdir -p $(dir $@)
	$(CC) $(ACFLAGS) $(DEPFLAGS) -c $< -o $@

# An image's name (argv[0]) and built-in command line.
image_meta = printf 'const char app_name[] = "%s";\nconst char image_cmdline[] = "%s";\n' $(1) $(2)
$(BUILD)/app_name.c: Makefile
	@mkdir -p $(dir $@)
	$(call image_meta,'$(APP_NAME)','') > $@

$(BUILD)/test_name.c: Makefile
	@mkdir -p $(dir $@)
	$(call image_meta,'ktest','') > $@

$(BUILD)/bench_name.c: Makefile
	@mkdir -p $(dir $@)
	$(call image_meta,'sched-bench','') > $@

$(BUILD)/%_name.o: $(BUILD)/%_name.c
	$(CC) $(KCFLAGS) -c $< -o $@

# --- musl, built by its own Makefile with Skiff's syscall_arch.h
# (libc/musl/config.mak says what differs), and the system-call table ---
SYSCALL_SRC := $(filter %.c,$(KERNEL_SRC))
# Rewritten only when its contents change: musl depends on the header.
define generate
	@mkdir -p $(dir $@)
	@scripts/syscalls $(1) $(SYSCALL_SRC) > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@
endef
$(BUILD)/libc/gen/syscall_table.c: $(SYSCALL_SRC) scripts/syscalls FORCE
	$(call generate,table)
$(MUSL)/gen/skiff_syscalls.h: $(SYSCALL_SRC) scripts/syscalls FORCE
	$(call generate,direct)
# The table's six-argument entries jump to their sys_NAME (a tail call).
$(BUILD)/libc/gen/syscall_table.o: $(BUILD)/libc/gen/syscall_table.c
	$(CC) $(KCFLAGS) -foptimize-sibling-calls -c $< -o $@

MUSL_MAKE = $(MAKE) -s -C $(MUSL) -f $(abspath $(MUSL_SRC))/Makefile \
	MUSL_SRC=$(abspath $(MUSL_SRC)) SKIFF_ROOT=$(abspath .) SKIFF_GEN=$(abspath $(MUSL)/gen)
# Skiff's patches to musl (libc/musl/patches, each with its reason), applied
# once to the fetched tree; a changed patch needs a fresh tree.
MUSL_PATCHES := $(sort $(wildcard libc/musl/patches/*.patch))
$(MUSL_SRC)/.skiff-patched: $(MUSL_SRC)/.skiff-fetched $(MUSL_PATCHES)
	@if [ -e $@ ]; then echo "musl's patches changed: rm -rf $(MUSL_SRC) $(MUSL) and build again" >&2; exit 1; fi
	for p in $(MUSL_PATCHES); do patch -d $(MUSL_SRC) -p1 --forward --quiet < $$p || exit 1; done
	touch $@
$(MUSL)/config.mak: $(MUSL_SRC)/.skiff-patched
	@mkdir -p $(MUSL)
	echo 'include $(abspath libc/musl/config.mak)' > $@
# A change of how syscalls are called rebuilds all of musl (about 30 s).
$(MUSL)/lib/libc.a: $(MUSL)/config.mak libc/musl/config.mak libc/musl/syscall_arch.h \
		$(MUSL)/gen/skiff_syscalls.h
	rm -rf $(MUSL)/obj $(MUSL)/lib
	+$(MUSL_MAKE) lib/libc.a
# After the library: both would generate musl's headers in obj/ at once.
$(MUSL)/include/.installed: $(MUSL)/lib/libc.a
	+$(MUSL_MAKE) includedir=$(abspath $(MUSL)/include) install-headers
	touch $@

MUSL_CFLAGS := -std=c99 -nostdinc -ffreestanding -O2 -g -fno-pic -fno-pie -mcmodel=kernel \
	-fcf-protection=none -fno-stack-protector -D_XOPEN_SOURCE=700 \
	-iquote libc/musl -iquote $(MUSL)/gen \
	-I$(MUSL_SRC)/arch/x86_64 -I$(MUSL_SRC)/arch/generic -I$(MUSL)/obj/src/internal \
	-I$(MUSL_SRC)/src/include -I$(MUSL_SRC)/src/internal -I$(MUSL)/obj/include -I$(MUSL_SRC)/include
$(BUILD)/libc/musl/%.c.o: libc/musl/%.c $(MUSL)/lib/libc.a
	@mkdir -p $(dir $@)
	$(CC) $(MUSL_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/libc/musl/%.S.o: libc/musl/%.S
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

# --- the vDSO for unmodified binaries (arch/x86_64/vdso): a small shared
# object, linked into the kernel as data; where its entry table lies in it
# comes from its symbol table ---
VDSO_SRC := arch/x86_64/vdso
$(BUILD)/vdso/vdso.so: $(VDSO_SRC)/vdso.c $(VDSO_SRC)/vdso.lds $(VDSO_SRC)/vdso.map
	@mkdir -p $(dir $@)
	$(CC) -O2 -fPIC -fno-asynchronous-unwind-tables -fcf-protection=none -fno-stack-protector \
		-nostdlib -shared -Wl,-T,$(VDSO_SRC)/vdso.lds -Wl,--version-script=$(VDSO_SRC)/vdso.map \
		-Wl,--hash-style=both -Wl,-soname=linux-vdso.so.1 -Wl,--build-id=none -o $@ $<
	@if readelf -rW $@ | grep -q 'R_X86'; then echo "vdso.so: relocations" >&2; exit 1; fi
$(BUILD)/vdso/vdso_image.S: $(BUILD)/vdso/vdso.so
	{ echo '	.section .rodata'; echo '	.balign 4096'; \
	  echo '	.globl vdso_image, vdso_image_end, vdso_entries_offset'; \
	  echo 'vdso_image: .incbin "$(abspath $<)"'; echo 'vdso_image_end:'; echo '	.balign 8'; \
	  echo "vdso_entries_offset: .quad 0x$$($(NM) $< | awk '$$3 == "skiff_vdso_entries" { print $$1 }')"; \
	} > $@

# --- linking: twice, the second time with the symbol table (core/ksym.c) ---
$(BUILD)/ksyms-empty.S: scripts/ksyms
	@mkdir -p $(dir $@)
	scripts/ksyms < /dev/null > $@

$(BUILD)/%.o: $(BUILD)/%.S
	$(CC) $(KCFLAGS) -c $< -o $@

define link_image
$(BUILD)/$(1).pass1.elf: $(2) $(LIBC_A) $(BUILD)/ksyms-empty.o arch/x86_64/linker.ld
	@mkdir -p $$(dir $$@)
	$(LD) $(LDFLAGS) -o $$@ $(2) $(BUILD)/ksyms-empty.o $(LIBC_A) $(LIBGCC)

$(BUILD)/$(1).ksyms.S: $(BUILD)/$(1).pass1.elf scripts/ksyms
	$(NM) -n $$< | scripts/ksyms > $$@

$(BUILD)/$(1).debug.elf: $(2) $(LIBC_A) $(BUILD)/$(1).ksyms.o arch/x86_64/linker.ld
	$(LD) $(LDFLAGS) -o $$@ $(2) $(BUILD)/$(1).ksyms.o $(LIBC_A) $(LIBGCC)

$(BUILD)/$(1).elf: $(BUILD)/$(1).debug.elf
	$(STRIP) --strip-all -o $$@ $$<
endef

# --- an archive linked into the image (fs/initramfs.c): make INITRD=file.cpio.
# Always linked; its .initrd section is empty without INITRD.
INITRD ?=
initrd_asm = echo '	.section .initrd, "a"' > $@ $(if $(1),&& echo '	.incbin "$(abspath $(1))"' >> $@)
$(BUILD)/initrd_path: FORCE
	@mkdir -p $(BUILD)
	@echo '$(abspath $(INITRD))' | cmp -s - $@ || echo '$(abspath $(INITRD))' > $@
$(BUILD)/initrd.S: $(BUILD)/initrd_path $(INITRD)
	@$(call initrd_asm,$(INITRD))

$(eval $(call link_image,kernel,$(KERNEL_OBJ) $(APP_OBJ) $(BUILD)/initrd.o))
$(eval $(call link_image,test/kernel,$(KERNEL_OBJ) $(TEST_OBJ)))
$(eval $(call link_image,bench/kernel,$(KERNEL_OBJ) $(BENCH_OBJ)))

# --- images of your own application: scripts/mkimage compiles the sources
# and calls `make image` with IMAGE_NAME, IMAGE_OBJS (objects and archives),
# IMAGE_CMDLINE (already C-escaped) and IMAGE_OUT ---
kernel-objs: $(KERNEL_OBJ) $(LIBC_A) $(MUSL)/include/.installed
print-app-flags:
	@echo $(ACFLAGS)
.PHONY: kernel-objs print-app-flags image
ifneq ($(IMAGE_NAME),)
IMAGE_META := $(BUILD)/image/$(IMAGE_NAME)/meta.o
$(BUILD)/image/$(IMAGE_NAME)/meta.c: FORCE
	@mkdir -p $(dir $@)
	@$(call image_meta,'$(IMAGE_NAME)','$(IMAGE_CMDLINE)') > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@
$(IMAGE_META): $(BUILD)/image/$(IMAGE_NAME)/meta.c
	$(CC) $(KCFLAGS) -c $< -o $@
$(BUILD)/image/$(IMAGE_NAME)/initrd.S: FORCE
	@$(call initrd_asm,$(IMAGE_INITRD))
$(eval $(call link_image,image/$(IMAGE_NAME)/image,$(KERNEL_OBJ) $(IMAGE_OBJS) $(IMAGE_META) \
	$(BUILD)/image/$(IMAGE_NAME)/initrd.o))
image: $(BUILD)/image/$(IMAGE_NAME)/image.elf
	cp $< $(IMAGE_OUT)
endif

# --- the GRUB ISO (its kernel command line: make iso ISO_CMDLINE='-- args';
# a boot module: ISO_INITRD=file.cpio) ---
ISO_CMDLINE ?=
ISO_INITRD ?=
$(BUILD)/iso_cmdline: FORCE
	@mkdir -p $(BUILD)
	@echo '$(ISO_CMDLINE)' | cmp -s - $@ || echo '$(ISO_CMDLINE)' > $@
$(BUILD)/iso_initrd: FORCE
	@mkdir -p $(BUILD)
	@echo '$(abspath $(ISO_INITRD))' | cmp -s - $@ || echo '$(abspath $(ISO_INITRD))' > $@
.PHONY: FORCE

iso: $(BUILD)/skiff.iso
$(BUILD)/skiff.iso $(BUILD)/test/skiff.iso: $(BUILD)/kernel.elf scripts/grub.cfg $(BUILD)/iso_cmdline \
		$(BUILD)/iso_initrd $(ISO_INITRD)
	@scripts/deps
	@rm -rf $@.dir && mkdir -p $@.dir/boot/grub
	cp $(BUILD)/kernel.elf $@.dir/boot/kernel.elf
	$(if $(ISO_INITRD),cp $(ISO_INITRD) $@.dir/boot/initrd.cpio)
	sed -e 's|@CMDLINE@|$(ISO_CMDLINE)|' \
		-e 's|@MODULES@|$(if $(ISO_INITRD),module2 /boot/initrd.cpio)|' \
		scripts/grub.cfg > $@.dir/boot/grub/grub.cfg
	grub-mkrescue -o $@ $@.dir 2> $@.log || \
		{ echo "make iso: grub-mkrescue failed; see $@.log" >&2; exit 1; }

# --- running and testing ---
run: $(BUILD)/kernel.elf
	@scripts/deps
	scripts/run $(RUNFLAGS) $(BUILD)/kernel.elf -- $(ARGS)

check:
	@scripts/deps
	@$(MAKE) --no-print-directory $(BUILD)/kernel.elf $(BUILD)/test/kernel.elf unit
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/maxcpus2 CONFIG_MAX_CPUS=2 $(BUILD)/maxcpus2/kernel.elf
	@$(MAKE) --no-print-directory ISO_CMDLINE='-- "from grub.cfg"' $(BUILD)/test/skiff.iso
	@tests/check BUILD=$(BUILD)

# --- host unit tests (ASan + UBSan) ---
UNIT_CFLAGS := -std=gnu11 -O1 -g $(WARN) -I. -DSKIFF_HOST_TEST \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
UNIT_TESTS := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_SRC_acpi := arch/x86_64/acpi.c
UNIT_SRC_bootinfo := arch/x86_64/bootinfo.c
UNIT_SRC_cmdline := core/cmdline.c
UNIT_SRC_cpio := fs/cpio.c
UNIT_SRC_printk := core/printk.c

unit: $(patsubst %,$(BUILD)/unit/test_%,$(UNIT_TESTS))

$(BUILD)/unit/test_%: tests/unit/test_%.c tests/unit/unit.c tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(UNIT_DEFS_$*) $(DEPFLAGS) -o $@ tests/unit/test_$*.c tests/unit/unit.c $(UNIT_SRC_$*)

$(BUILD)/unit/test_acpi: $(UNIT_SRC_acpi)
$(BUILD)/unit/test_bootinfo: $(UNIT_SRC_bootinfo)
$(BUILD)/unit/test_cmdline: $(UNIT_SRC_cmdline)
$(BUILD)/unit/test_cpio: $(UNIT_SRC_cpio)
$(BUILD)/unit/test_printk: $(UNIT_SRC_printk)
UNIT_SRC_page := core/page.c core/page_split.c core/page_check.c core/bootmem.c
$(BUILD)/unit/test_page: $(UNIT_SRC_page)
# The heap and its fake machine (tests/unit/malloc_fake.c) are compiled
# together, with the same renames.
UNIT_SRC_malloc := core/malloc.c core/malloc_slab.c core/malloc_large.c tests/unit/malloc_fake.c
UNIT_DEFS_malloc := -pthread -Dmalloc=kmalloc -Dfree=kfree -Dcalloc=kcalloc -Drealloc=krealloc \
	-Daligned_alloc=kaligned_alloc -Dposix_memalign=kposix_memalign \
	-Dmalloc_usable_size=kmalloc_usable_size
$(BUILD)/unit/test_malloc: $(UNIT_SRC_malloc) tests/unit/malloc_fake.h
# Two binaries, exact tests and random ones, over one harness (vma_harness.c).
UNIT_SRC_vma := core/vma.c core/rbtree.c tests/unit/vma_harness.c
UNIT_SRC_vma_random := $(UNIT_SRC_vma)
$(BUILD)/unit/test_vma: $(UNIT_SRC_vma) tests/unit/vma_harness.h
$(BUILD)/unit/test_vma_random: $(UNIT_SRC_vma_random) tests/unit/vma_harness.h
UNIT_SRC_rq := sched/rq.c core/rbtree.c
UNIT_SRC_timerq := sched/timerq.c core/rbtree.c
UNIT_SRC_spsc :=
UNIT_DEFS_spsc := -pthread
UNIT_SRC_path := fs/path.c
UNIT_SRC_elf := loader/elf.c
$(BUILD)/unit/test_elf: $(UNIT_SRC_elf)
$(BUILD)/unit/test_path: $(UNIT_SRC_path)
$(BUILD)/unit/test_rq: $(UNIT_SRC_rq)
$(BUILD)/unit/test_timerq: $(UNIT_SRC_timerq)
UNIT_SRC_fd := fs/fd.c fs/file.c tests/unit/host_kernel.c
UNIT_DEFS_fd := -pthread
$(BUILD)/unit/test_fd: $(UNIT_SRC_fd) tests/unit/host_kernel.h

# --- third-party sources: Debian source packages, fetched at build time, never
# committed.  lwIP stays pristine (Debian's patches change its core files);
# musl is upstream as Debian ships it.  The libc and network issues build them.
third-party: $(MUSL_SRC)/.skiff-fetched $(THIRD_PARTY)/lwip/.skiff-fetched
$(MUSL_SRC)/.skiff-fetched:
	scripts/deps source musl $(THIRD_PARTY)
$(THIRD_PARTY)/lwip/.skiff-fetched:
	scripts/deps source --pristine lwip $(THIRD_PARTY)
.PHONY: third-party

bench: $(BUILD)/kernel.elf $(BUILD)/bench/stub.elf $(BUILD)/bench/kernel.elf
	@scripts/deps
	BUILD=$(BUILD) bench/run

$(BUILD)/bench/stub.elf: bench/boot/stub.S
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -Wl,-Ttext=0x100000 -Wl,-e,start -Wl,--build-id=none -o $@ $<

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
