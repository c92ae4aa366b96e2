#!/usr/bin/env bash
# tests/posix/run.sh - the POSIX programs, on the host and in Skiff.
#
#   tests/posix/run.sh [BUILD=dir] [NAME...]
#
# Each tests/posix/NAME.c is compiled once with Debian's musl-gcc and
# linked twice: natively (-static) and into a Skiff image with
# scripts/mkimage, from the very same object file.  The
# native run (with an empty environment) gives the expected output and
# exit status; the Skiff runs, at 1 and at 4 CPUs, must print the same
# lines and end with the same status.  A third way runs the native static
# binary itself, unmodified, in Skiff (scripts/mkimage --exec: the loader
# starts it; its system calls use the SYSCALL instruction), at 1 and 4
# CPUs, with the same expectation.  Skiff's own console lines
# ("skiff: ...") are left out of the comparison and shown as comments.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$ROOT/build
names=()
for arg in "$@"; do
	case $arg in
	BUILD=*) B=$(cd "$ROOT" && realpath -m "${arg#BUILD=}") ;;
	*) names+=("$arg") ;;
	esac
done
[[ ${#names[@]} -gt 0 ]] || names=($(cd "$ROOT/tests/posix" && ls *.c | sed 's/\.c$//'))

# The arguments each program is run with (both places).
args_for() {
	case $1 in
	misc) echo "hello" ;;
	*) echo "" ;;
	esac
}

out=$B/posix
mkdir -p "$out/host"
passed=0 failed=0

result() {   # result OK NAME [DETAIL]
	if [[ $1 == ok ]]; then
		echo "ok - $2"
		passed=$((passed + 1))
	else
		echo "not ok - $2"
		[[ -n ${3:-} ]] && sed 's/^/#   /' <<<"$3"
		failed=$((failed + 1))
	fi
}

for name in "${names[@]}"; do
	src=$ROOT/tests/posix/$name.c
	read -r -a args <<<"$(args_for "$name")"
	if ! musl-gcc -O2 -c -o "$out/$name.o" "$src" 2>"$out/$name.host.log" ||
	   ! musl-gcc -static -o "$out/host/$name" "$out/$name.o" -lpthread -lm 2>>"$out/$name.host.log"; then
		result fail "$name: builds natively" "$(cat "$out/$name.host.log")"
		continue
	fi
	expected=$(cd /tmp && env -i "$out/host/$name" "${args[@]}" 2>&1; echo "exit $?")
	if ! "$ROOT/scripts/mkimage" -o "$out/$name.elf" "$out/$name.o" >"$out/$name.mkimage.log" 2>&1; then
		result fail "$name: links into a Skiff image" "$(tail -5 "$out/$name.mkimage.log")"
		continue
	fi
	if ! "$ROOT/scripts/mkimage" --exec "$out/host/$name" -o "$out/$name.exec.elf" \
		>"$out/$name.mkimage-exec.log" 2>&1; then
		result fail "$name: the native binary goes into a Skiff image (--exec)" \
			"$(tail -5 "$out/$name.mkimage-exec.log")"
		continue
	fi
	for way in linked exec; do
		img=$out/$name.elf what=""
		[[ $way == exec ]] && img=$out/$name.exec.elf what=", the native binary unmodified"
		for smp in 1 4; do
			raw=$("$ROOT/scripts/run" --timeout 120 --smp "$smp" "$img" -- "${args[@]}" 2>&1)
			status=$?
			got=$(tr -d '\r' <<<"$raw" | grep -v '^skiff: '; echo "exit $status")
			if [[ $got == "$expected" ]]; then
				result ok "$name at $smp CPU(s)$what: same output and status as Linux"
			else
				result fail "$name at $smp CPU(s)$what: same output and status as Linux" \
					"$(diff <(echo "$expected") <(echo "$got") | head -20)"
			fi
			tr -d '\r' <<<"$raw" | grep '^skiff: ' | grep -v '^skiff: boot \|^skiff: initramfs: ' |
				sed 's/^/# /'
		done
	done
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
