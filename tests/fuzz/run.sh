#!/usr/bin/env bash
# tests/fuzz/run.sh - a short run of every libFuzzer target (the parsers of
# outside input), as `make check` does: each is built with clang
# (-fsanitize=fuzzer,address,undefined), seeded where it can write seeds,
# and run for SECONDS (default 8).  A crash, a sanitizer report or a leak
# is a failure; its reproducer is kept in BUILD/fuzz/NAME.crash/.
#
#   tests/fuzz/run.sh [BUILD=dir] [SECONDS=n] [NAME...]
#
# A long run is the same with more time: SECONDS=3600 tests/fuzz/run.sh elf
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$ROOT/build
secs=8
names=()
for arg in "$@"; do
	case $arg in
	BUILD=*) B=$(cd "$ROOT" && realpath -m "${arg#BUILD=}") ;;
	SECONDS=*) secs=${arg#SECONDS=} ;;
	*) names+=("$arg") ;;
	esac
done

# NAME: the code it fuzzes, and the largest input worth trying.
declare -A src=( [acpi]=arch/x86_64/acpi.c [bootinfo]=arch/x86_64/bootinfo.c
	[cmdline]=core/cmdline.c [cpio]=fs/cpio.c [elf]=loader/elf.c )
declare -A max_len=( [acpi]=8192 [bootinfo]=4096 [cmdline]=2048 [cpio]=8192 [elf]=16384 )
[[ ${#names[@]} -gt 0 ]] || names=(acpi bootinfo cmdline cpio elf)

out=$B/fuzz
mkdir -p "$out"
passed=0 failed=0
cd "$ROOT"
for name in "${names[@]}"; do
	target=tests/fuzz/fuzz_$name.c
	upper=$(tr a-z A-Z <<<"$name")
	corpus=$out/$name.corpus
	mkdir -p "$corpus" "$out/$name.crash"
	log=$out/$name.log
	if grep -q "FUZZ_${upper}_SEEDS" "$target" &&
	   ! { clang -std=gnu11 -g -DSKIFF_HOST_TEST "-DFUZZ_${upper}_SEEDS" -I. "$target" \
		"${src[$name]}" -o "$out/$name.seeds" && "$out/$name.seeds" "$corpus"; } >"$log" 2>&1; then
		echo "not ok - fuzz $name: writing seeds failed"; tail -5 "$log" | sed 's/^/#   /'
		failed=$((failed + 1)); continue
	fi
	if ! clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -DSKIFF_HOST_TEST -I. "$target" "${src[$name]}" \
		-o "$out/$name.fuzz" >"$log" 2>&1; then
		echo "not ok - fuzz $name: build failed"; tail -5 "$log" | sed 's/^/#   /'
		failed=$((failed + 1)); continue
	fi
	if "$out/$name.fuzz" -max_total_time="$secs" -max_len="${max_len[$name]}" \
		-artifact_prefix="$out/$name.crash/" "$corpus" >"$log" 2>&1; then
		runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1)
		echo "ok - fuzz $name: ${runs:-done}, no finding in ${secs} s"
		passed=$((passed + 1))
	else
		echo "not ok - fuzz $name: a finding (reproducer in $out/$name.crash/)"
		grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -5 | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
