#!/usr/bin/env bash
# bench/boot/boot.sh - the boot figures of the boot issue:
#   1. size of the hello image (kernel + default app, stripped);
#   2. guest-measured boot time (first kernel instruction -> application
#      entry, the banner's boot_us) at 64 MiB and at 4 GiB;
#   3. whole QEMU process wall time, hello image vs. the empty PVH stub
#      (bench/boot/stub.S), same QEMU command line, runs interleaved.
# Usage: bench/boot/boot.sh BUILD_DIR [RUNS].  Prints a Markdown table.
set -euo pipefail

B=${1:-build}
N=${2:-20}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN=$ROOT/scripts/run
unset SKIFF_CMDLINE

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}'; }
minmax() { sort -n | awk 'NR==1{lo=$1} {hi=$1} END {print lo "–" hi}'; }

boot_us() {   # MACHINE MEM -> one boot_us per line
	for ((i = 0; i < N; i++)); do
		"$RUN" --machine "$1" --mem "$2" --timeout 60 "$B/kernel.elf" </dev/null |
			tr -d '\r' | sed -n 's/.*boot_us=\([0-9]*\).*/\1/p'
	done
}

# The QEMU command scripts/run would use, minus the status channel (the
# stub has none), run directly so the shell adds nothing to either side.
qemu_cmd() {
	"$RUN" --dry-run "$1" </dev/null |
		sed 's/ -chardev file,id=skstat,path=[^ ]*//; s/ -device isa-debugcon,iobase=0xe9,chardev=skstat//'
}

wall_ns() {   # IMAGE -> nanoseconds of one QEMU run
	local cmd t0 t1
	cmd=$(qemu_cmd "$1")
	t0=$(date +%s%N)
	eval "$cmd" >/dev/null 2>&1 </dev/null || true
	t1=$(date +%s%N)
	echo $((t1 - t0))
}

size=$(stat -c %s "$B/kernel.elf")
: >"$B/bench-b64" ; : >"$B/bench-b4g"
boot_us microvm 64M >"$B/bench-b64"
boot_us microvm 4G >"$B/bench-b4g"
: >"$B/bench-wh" ; : >"$B/bench-ws"
for ((i = 0; i < N; i++)); do
	wall_ns "$B/kernel.elf" >>"$B/bench-wh"
	wall_ns "$B/bench/stub.elf" >>"$B/bench-ws"
done
wh=$(median <"$B/bench-wh") ws=$(median <"$B/bench-ws")

echo "| figure | target | measured (median of $N; range) |"
echo "|---|---|---|"
echo "| hello image size, stripped | ≤ 300 KB | $size bytes ($((size / 1024)) KiB) |"
echo "| boot_us, microvm, 64 MiB, 1 CPU | ≤ 1000 µs | $(median <"$B/bench-b64") µs ($(minmax <"$B/bench-b64")) |"
echo "| boot_us, microvm, 4 GiB, 1 CPU | = 64 MiB figure | $(median <"$B/bench-b4g") µs ($(minmax <"$B/bench-b4g")) |"
echo "| QEMU wall time, empty PVH stub | floor | $((ws / 1000000)).$(((ws / 100000) % 10)) ms |"
echo "| QEMU wall time, hello image | ≤ floor + 15 ms | $((wh / 1000000)).$(((wh / 100000) % 10)) ms (+$(((wh - ws) / 100000 / 10)).$((((wh - ws) / 100000) % 10)) ms) |"
