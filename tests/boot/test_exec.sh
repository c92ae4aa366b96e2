#!/usr/bin/env bash
# tests/boot/test_exec.sh - unmodified static Linux executables started by
# the loader (kernel option exec=PATH; scripts/mkimage --exec), end to end:
# arguments, environment and exit status pass through; musl and glibc
# static binaries and a glibc static PIE run; and every executable that
# cannot run gives its one-line "skiff: exec PATH: REASON" and the status a
# shell would (126 or 127), never a crash.
# Usage: tests/boot/test_exec.sh BUILD_DIR.  Prints "ok - NAME" / "not ok -
# NAME" per case, then "N passed, N failed".
set -uo pipefail

B=$(realpath -m "${1:-build}")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/boot/lib.sh"

# has_line LINE: the console has exactly this line.
has_line() { grep -qxF -- "$1" <<<"$out"; }
# refused PATH STATUS REASON_RE: exactly one exec line, with a reason
# matching the extended regex, that status, no crash.
refused() {
	[[ $rc -eq $2 ]] && grep -qE -- "^skiff: exec $1: $3" <<<"$out" &&
		[[ $(grep -c '^skiff: exec ' <<<"$out") -eq 1 ]] &&
		! grep -qE 'fatal|panic|skiff-panic' <<<"$out"
}

# --- the programs ---
cat >"$work/prog.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	const char *g = getenv("GREETING");
	printf("GREETING=%s\n", g ? g : "(unset)");
	return argc > 2 && strcmp(argv[1], "exit") == 0 ? atoi(argv[2]) : 0;
}
EOF
root=$work/root
mkdir -p "$root/bin" "$root/bad/dir"
if ! musl-gcc -static -O2 -o "$work/prog" "$work/prog.c" 2>"$work/build.log" ||
   ! gcc -static -O2 -o "$root/bin/glibc-static" "$work/prog.c" 2>>"$work/build.log" ||
   ! gcc -static-pie -O2 -o "$root/bin/glibc-pie" "$work/prog.c" 2>>"$work/build.log" ||
   ! gcc -O2 -o "$root/bad/dynamic" "$work/prog.c" 2>>"$work/build.log"; then
	echo "not ok - the test programs build"; sed 's/^/#   /' "$work/build.log"
	echo "0 passed, 1 failed"; exit 1
fi
head -c 200 "$work/prog" >"$root/bad/truncated"
cp "$work/prog" "$root/bad/aarch64"
printf '\xb7\x00' | dd of="$root/bad/aarch64" bs=1 seek=18 conv=notrunc status=none  # e_machine
printf '#!/bin/sh\necho hello\n' >"$root/bad/script.sh"
printf 'just text\n' >"$root/bad/text.txt"
cp "$work/prog" "$root/bad/no-x"
chmod 755 "$root/bad/truncated" "$root/bad/aarch64" "$root/bad/script.sh" "$root/bad/text.txt"
chmod 644 "$root/bad/no-x"

img=$work/prog.elf
if ! "$ROOT/scripts/mkimage" --exec "$work/prog" --initrd "$root" -o "$img" >"$work/mkimage.log" 2>&1; then
	echo "not ok - scripts/mkimage --exec builds the image"; tail -5 "$work/mkimage.log" | sed 's/^/#   /'
	echo "0 passed, 1 failed"; exit 1
fi

# --- what passes through ---
boot_with "" "$img"
check "--exec image: the program runs as /bin/prog, exit 0" \
	eval '[ $rc -eq 0 ] && has_line "argv[0]=/bin/prog" && ! grep -q "argv\[1\]" <<<"$out" && has_line "GREETING=(unset)"'
boot_with "" "$img" -- a "b c"
check "arguments after -- reach argv (built-in exec= kept)" \
	eval '[ $rc -eq 0 ] && has_line "argv[1]=a" && has_line "argv[2]=b c" && ! grep -q "argv\[3\]" <<<"$out"'
boot_with "" "$img" -- exit 7
check "the exit status passes through (7)" eval '[ $rc -eq 7 ] && has_line "argv[2]=7"'
boot_with "GREETING=hello" "$img"
check "KEY=VALUE on the kernel command line reaches getenv" has_line "GREETING=hello"
boot_with "" --smp 4 "$img" -- exit 3
check "4 CPUs: runs, status 3" eval '[ $rc -eq 3 ] && has_line "argv[1]=exit"'
boot_with "exec=/bin/glibc-static GREETING=g" "$img" -- exit 5
check "a glibc static binary runs (exec= on the boot line wins)" \
	eval '[ $rc -eq 5 ] && has_line "argv[0]=/bin/glibc-static" && has_line "GREETING=g"'
boot_with "exec=/bin/glibc-pie" "$img" -- x
check "a glibc static PIE runs (placed at a bias, relocates itself)" \
	eval '[ $rc -eq 0 ] && has_line "argv[0]=/bin/glibc-pie" && has_line "argv[1]=x"'

# --- what cannot run ---
boot_with "exec=/bad/truncated" "$img"
check "truncated ELF: 126 and one line" refused /bad/truncated 126 "trunc|past the end|outside the file"
boot_with "exec=/bad/aarch64" "$img"
check "ELF for another architecture: 126 and one line" \
	refused /bad/aarch64 126 "built for AArch64, not x86-64"
boot_with "exec=/bad/dynamic" "$img"
check "dynamically linked binary: 127 and one line" refused /bad/dynamic 127 "dynamically linked"
boot_with "exec=/bad/script.sh" "$img"
check "shell script: 126 and one line" refused /bad/script.sh 126 "not an ELF file"
boot_with "exec=/bad/text.txt" "$img"
check "text file: 126 and one line" refused /bad/text.txt 126 "not an ELF file"
boot_with "exec=/bad/no-x" "$img"
check "no execute permission: 126 and one line" refused /bad/no-x 126 "permission denied"
boot_with "exec=/bad/nope" "$img"
check "missing path: 127 and one line" refused /bad/nope 127 "no such file"
boot_with "exec=/bad/dir" "$img"
check "directory: 126 and one line" refused /bad/dir 126 "is a directory"

summary
