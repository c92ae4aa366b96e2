#!/usr/bin/env bash
# tests/boot/test_initramfs.sh - the initramfs end to end: boots the hello
# image with `scripts/run --initrd` (a directory, archived by scripts/run; a
# cpio file; on microvm and on q35), from the GRUB ISO with a module2 line,
# and with an archive linked into the image (make INITRD=...), and checks the
# console: the unpack line with the entry count, the note for a skipped fifo,
# and that a corrupt archive is reported in one line while the boot goes on.
# Needs the VFS (fs/vfs.c) behind vfs_mkdir/vfs_open/vfs_symlink.
# Usage: tests/boot/test_initramfs.sh BUILD_DIR.  Prints "ok - NAME" /
# "not ok - NAME" per case, then "N passed, N failed".
set -uo pipefail

B=$(realpath -m "${1:-build}")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/boot/lib.sh"

booted() { [[ $rc -eq 0 ]] && has "Hello from Skiff!"; }

# The tree: 7 entries kept (".", etc, etc/deep, etc/deep/er, etc/motd,
# etc/link, big), a fifo skipped.
tree=$work/tree
mkdir -p "$tree/etc/deep/er"
printf 'hello from the initramfs\n' >"$tree/etc/motd"
chmod 0640 "$tree/etc/motd"
ln -s motd "$tree/etc/link"
head -c 5000000 /dev/urandom >"$tree/big"       # whole 2 MiB chunks to release
mkfifo "$tree/fifo"
(cd "$tree" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$work/tree.cpio"
unpacked() {   # SOURCE: the unpack line for the tree
	booted && has "skiff: initramfs: unpacked 7 entries from $1" &&
		has "skiff: initramfs: skipped 'fifo': a fifo"
}

boot --initrd "$tree" "$B/kernel.elf"
check "--initrd DIR on microvm: unpacked, fifo skipped, boot goes on" unpacked "module 0"
boot --machine q35 --smp 2 --initrd "$work/tree.cpio" "$B/kernel.elf"
check "--initrd FILE on q35 (PVH option ROM): unpacked" unpacked "module 0"

# Corrupt archives: one line with the problem, the offset and what was kept.
head -c 700 "$work/tree.cpio" >"$work/cut.cpio"
boot --initrd "$work/cut.cpio" "$B/kernel.elf"
check "a truncated archive: one-line report, entries before it kept, boot goes on" \
	eval 'booted && has_re "^skiff: initramfs: module 0: .* at offset [0-9]+; kept [1-9][0-9]* entries$"'
head -c 4096 /dev/urandom >"$work/junk"
boot --initrd "$work/junk" "$B/kernel.elf"
check "a module that is not cpio: bad magic at offset 0, boot goes on" \
	eval 'booted && has "skiff: initramfs: module 0: bad magic (not a newc cpio header) at offset 0; kept 0 entries"'

# The GRUB ISO with module2 /boot/initrd.cpio.
if make -C "$ROOT" --no-print-directory BUILD="$B/initramfs-iso" ISO_INITRD="$work/tree.cpio" \
	"$B/initramfs-iso/skiff.iso" >"$work/make.log" 2>&1; then
	boot --iso "$B/initramfs-iso/skiff.iso"
	check "GRUB ISO with a module2 archive: unpacked" unpacked "module 0"
else
	rc=$?; out=$(tail -5 "$work/make.log")
	check "GRUB ISO with a module2 archive: builds" false
fi

# An archive linked into the image.
if make -C "$ROOT" --no-print-directory BUILD="$B/initramfs-linked" INITRD="$work/tree.cpio" \
	"$B/initramfs-linked/kernel.elf" >"$work/make.log" 2>&1; then
	boot "$B/initramfs-linked/kernel.elf"
	check "make INITRD=file: the linked-in archive is unpacked" unpacked "the linked-in archive"
	boot --initrd "$work/cut.cpio" "$B/initramfs-linked/kernel.elf"
	check "a bad module, then the linked-in archive: both reported, in that order" \
		eval 'booted && has "kept" && unpacked "the linked-in archive" &&
		      [[ $(grep -n "at offset" <<<"$out" | cut -d: -f1) -lt $(grep -n "linked-in" <<<"$out" | cut -d: -f1) ]]'
else
	rc=$?; out=$(tail -5 "$work/make.log")
	check "make INITRD=file: builds" false
fi

summary
