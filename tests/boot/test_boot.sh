#!/usr/bin/env bash
# tests/boot/test_boot.sh - boots the real images under QEMU and checks what
# a user sees: the banner with the right CPU count on every boot path (PVH on
# microvm and q35, GRUB from the ISO), arguments and modules arriving, exit
# statuses, and how fatal conditions are reported (exception, panic,
# malformed command line, more CPUs than the kernel supports).
# Usage: tests/boot/test_boot.sh BUILD_DIR.  Prints "ok - NAME" / "not ok -
# NAME" per case, then "N passed, N failed".
set -uo pipefail

B=${1:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/boot/lib.sh"

hello_ok() {   # expected CPU count
	[[ $rc -eq 0 ]] && has_re "^skiff: boot cpus=$1 mem_mib=[0-9]+ boot_us=[0-9]+$" &&
		has "Hello from Skiff!"
}
fatal_ok() {   # expected text in the report
	[[ $rc -eq 101 ]] && has "$1"
}

# --- the hello image on every boot path, 1 and 4 CPUs ---
for m in microvm q35; do
	for n in 1 4; do
		boot_with "" --machine "$m" --smp "$n" "$B/kernel.elf" -- one "two words"
		check "PVH on $m, $n CPU(s): banner, greeting, exit 0" hello_ok "$n"
		check "PVH on $m, $n CPU(s): arguments arrive intact" \
			eval 'has "  arg: one" && has "  arg: two words"'
	done
done
for n in 1 4; do
	boot_with "" --iso --smp "$n" "$B/test/skiff.iso"
	check "GRUB ISO on q35, $n CPU(s): banner, greeting, exit 0" hello_ok "$n"
	check "GRUB ISO on q35, $n CPU(s): grub.cfg command line arrives" has "  arg: from grub.cfg"
done
check "grub-file accepts kernel.elf as Multiboot2" grub-file --is-x86-multiboot2 "$B/kernel.elf"

boot_with "" --mem 8M "$B/kernel.elf"
check "the hello image boots and runs in 8 MiB of RAM" hello_ok 1

boot_with "" --mem 256M "$B/kernel.elf"
check "256 MiB guest reports mem_mib near 256" has_re "mem_mib=(25[4-6])"

head -c 300000 /dev/urandom >"$work/initrd"
boot_with "bootlog" --initrd "$work/initrd" "$B/kernel.elf"
check "PVH passes an initrd as a boot module" has ", 1 modules,"

# --- exit statuses ---
boot_with "" "$B/test/kernel.elf" -- crash no-such-kind
check "the application's exit status is scripts/run's (2)" [ "$rc" -eq 2 ]

# --- power-off through ACPI S5 when QEMU has no isa-debug-exit device ---
for m in q35 microvm; do
	SKIFF_NO_DEBUG_EXIT=1 boot "" --machine "$m" "$B/test/kernel.elf" -- crash no-such-kind
	check "ACPI S5 power-off on $m (PM1 / HW-reduced sleep register)" \
		eval '[ "$rc" -eq 2 ] && ! has "could not power off"'
done

# --- fatal conditions: a report, then the panic status (101), never a hang ---
boot_with "" "$B/test/kernel.elf" -- crash null
check "NULL dereference: fault report with address, access, symbol and backtrace" \
	eval 'fatal_ok "application fault at 0000000000000000: no mapping there" && has "fatal page fault at 0000000000000000 (read, not mapped)" && has "<crash_null+" && has "backtrace:" && has "<crash+"'
boot_with "" "$B/test/kernel.elf" -- crash text
check "write to kernel text: protection-violation page fault" \
	eval 'fatal_ok "#PF page fault" && has "protection violation, write"'
boot_with "" "$B/test/kernel.elf" -- crash ud
check "invalid opcode: #UD report" fatal_ok "#UD invalid opcode"
boot_with "" "$B/test/kernel.elf" -- crash gp
check "non-canonical address: #GP report" fatal_ok "#GP general protection"
boot_with "" --smp 4 "$B/test/kernel.elf" -- crash panic
check "panic: message and backtrace" \
	eval 'fatal_ok "panic on cpu 0: deliberate panic" && has "<crash+"'
boot_with "" "$B/test/kernel.elf" -- crash stack
check "stack overflow: the guard page faults and the report says so" \
	eval 'fatal_ok "#PF page fault" && has "stack overflow" && has "<recurse"'
boot_with "" "$B/test/kernel.elf" -- crash user
check "application fault the VM layer refuses: report with address and symbol" \
	eval 'fatal_ok "fatal page fault at 0000000060000000 (read, not mapped), error -14" && has "<crash_null+"'
boot_with 'x="unterminated' "$B/kernel.elf"
check "malformed command line: clear message, clean exit" fatal_ok "malformed command line: an unterminated quote"
boot_with "" --smp 4 "$B/maxcpus2/kernel.elf"
check "more CPUs than the kernel supports: clear message, clean exit" \
	fatal_ok "this kernel supports at most 2"

summary
