#!/usr/bin/env bash
# tests/boot/test_run_args.sh — host test of scripts/run, no kernel needed:
# its QEMU command lines (through --dry-run), its usage errors, and its
# exit-status protocol (against a fake QEMU that writes the status record).
# Prints "ok - NAME" / "not ok - NAME" per case, then "N passed, N failed".
set -euo pipefail

RUN=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/run
work=$(mktemp -d "${TMPDIR:-/tmp}/test_run_args.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work   # scripts/run's own temporary directories land here
unset SKIFF_CMDLINE ACCEL QEMU
image=$work/kernel.elf
: >"$image"
passed=0 failed=0

# check NAME CMD...: one result line from the exit status of CMD.
check() {
	local name=$1; shift
	if "$@"; then
		echo "ok - $name"; passed=$((passed + 1))
	else
		echo "not ok - $name"; failed=$((failed + 1))
	fi
}

# run_script ARGS...: run scripts/run, keeping stdout, stderr and status.
run_script() {
	rc=0
	"$RUN" "$@" >"$work/out" 2>"$work/err" </dev/null || rc=$?
	out=$(cat "$work/out") err=$(cat "$work/err")
}
dry() { run_script --dry-run "$@"; }
has() { [[ $rc -eq 0 && " $out " == *" $1 "* ]]; }      # a word sequence in the command
lacks() { [[ $rc -eq 0 && " $out " != *"$1"* ]]; }
status_is() { [[ $rc -eq $1 ]]; }
equals() { [[ $1 == "$2" ]]; }
contains() { [[ $1 == *"$2"* ]]; }
no_tmp_left() { ! compgen -G "$work/skiff-run.*" >/dev/null; }
usage_error() { [[ $rc -eq 2 && $err == *"$1"* && $err == *usage:* ]]; }

# The value that follows option $1 in the dry-run command line.
value_of() {
	local -a words
	eval "words=($out)"
	local i
	for ((i = 0; i < ${#words[@]} - 1; i++)); do
		[[ ${words[i]} == "$1" ]] && { printf '%s' "${words[i + 1]}"; return 0; }
	done
	return 1
}

# --- command lines -----------------------------------------------------------
dry "$image"
check "microvm is the default machine, with its properties" \
	has "-M microvm,x-option-roms=off,rtc=on,acpi=on,pit=on,pic=on,isa-serial=on,auto-kernel-cmdline=off"
check "common flags: no defaults, no reboot, no display, serial on stdio" \
	has "-nodefaults -no-reboot -display none -m 64M -smp 1"
check "serial console on stdio when stdin is not a terminal" has "-serial stdio"
check "exit device and status channel" has "-device isa-debug-exit,iobase=0xf4,iosize=0x04"
check "status chardev is a file under TMPDIR" \
	equals "$(value_of -chardev | sed 's/skiff-run\.[^/]*/skiff-run.X/')" "file,id=skstat,path=$work/skiff-run.X/status"
check "status device on port 0xe9" has "-device isa-debugcon,iobase=0xe9,chardev=skstat"
check "kernel booted with -kernel" equals "$(value_of -kernel)" "$image"
check "  ... and an empty command line" equals "$(value_of -append)" ""
check "no devices by default" lacks "-device virtio"
check "no temporary directory left behind" no_tmp_left

dry --machine q35 "$image"
check "q35 machine" has "-M q35"
check "q35 has no microvm properties" lacks "microvm"

ACCEL=tcg dry --smp 1 "$image"
check "ACCEL=tcg gives TCG and -cpu max" has "-accel tcg -cpu max"
ACCEL=kvm dry "$image"
check "ACCEL=kvm gives KVM and -cpu host" has "-accel kvm -cpu host"
ACCEL=tcg dry --smp 4 "$image"
check "smp > 1 under TCG uses multi-threaded TCG" has "-smp 4"
check "  ... with thread=multi" has "-accel tcg,thread=multi -cpu max"
ACCEL=kvm dry --smp 4 "$image"
check "smp > 1 under KVM has no TCG options" lacks "thread=multi"
ACCEL=tcg dry --cpu qemu64 "$image"
check "--cpu overrides the CPU model" has "-accel tcg -cpu qemu64"
ACCEL=bogus dry "$image"
check "bad ACCEL exits 2" usage_error "ACCEL"

SKIFF_CMDLINE="log=debug" dry "$image" -- plain "two words" 'q"uote' 'back\slash' "" "tab	x"
check "ARGS follow kernel options and '--', quoted where needed" \
	equals "$(value_of -append)" \
	'log=debug -- plain "two words" "q\"uote" "back\\slash" "" "tab	x"'
dry "$image" -- a
check "ARGS without kernel options" equals "$(value_of -append)" "-- a"

dry --mem=1G --smp=2 "$image"
check "--opt=value forms" has "-m 1G -smp 2"
dry --initrd "$image" "$image"
check "--initrd passes -initrd" equals "$(value_of -initrd)" "$image"
mkdir -p "$work/tree/etc" && echo hi >"$work/tree/etc/motd"
dry --initrd "$work/tree" "$image"
check "--initrd DIR passes a temporary archive" \
	equals "$(value_of -initrd | sed 's/skiff-run\.[^/]*/skiff-run.X/')" "$work/skiff-run.X/initrd.cpio"
check "  ... and leaves no temporary directory behind" no_tmp_left
dry --disk "$image" "$image"
check "--disk on microvm is virtio-blk on modern virtio-mmio" \
	has "-global virtio-mmio.force-legacy=false"
check "  ... with a virtio-blk-device" has "-drive file=$image,if=none,id=d0,format=raw -device virtio-blk-device,drive=d0"
dry --machine q35 --disk "$image" "$image"
check "--disk on q35 is virtio-blk-pci" has "-device virtio-blk-pci,drive=d0"
dry --net user "$image"
check "--net user on microvm" has "-netdev user,id=n0 -device virtio-net-device,netdev=n0"
dry --machine q35 --net tap:tap0 "$image"
check "--net tap on q35" has "-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=n0"
dry --gdb "$image"
check "--gdb waits for gdb" has "-s -S"
check "  ... and says how to attach" contains "$err" "gdb $image -ex 'target remote :1234'"
dry --qemu-arg -trace --qemu-arg 'virtio_*' "$image"
check "--qemu-arg passes arguments through" has "-trace 'virtio_*'"

dry --iso "$image"
check "--iso boots the CD through GRUB on q35" has "-M q35"
check "  ... from -cdrom" has "-cdrom $image -boot d"
check "  ... without -kernel" lacks "-kernel"
dry --iso --gdb "$image"
check "  ... gdb hint names the kernel ELF with symbols" contains "$err" "gdb build/kernel"

# --- usage errors ------------------------------------------------------------
dry --iso "$image" -- arg
check "--iso with ARGS exits 2" usage_error "--iso"
dry --iso --machine microvm "$image"
check "--iso with --machine microvm exits 2" usage_error "q35"
dry --mem 64X "$image"
check "bad --mem exits 2" usage_error "--mem"
dry --smp 0 "$image"
check "bad --smp exits 2" usage_error "--smp"
dry --net wifi "$image"
check "bad --net exits 2" usage_error "--net"
dry --machine pc "$image"
check "bad --machine exits 2" usage_error "--machine"
dry "$work/missing.elf"
check "missing image exits 2" usage_error "does not exist"
dry --disk "$work/missing.img" "$image"
check "missing disk exits 2" usage_error "does not exist"
dry --initrd "$work/missing.cpio" "$image"
check "missing initrd exits 2" usage_error "neither a file nor a directory"
dry --frobnicate "$image"
check "unknown option exits 2" usage_error "--frobnicate"
dry
check "no image exits 2" usage_error "IMAGE"
dry --smp
check "option without a value exits 2" usage_error "needs a value"
run_script --help
check "--help prints usage" contains "$rc:$out" "0:scripts/run — boot"

# --- exit-status protocol, against a fake QEMU ---------------------------------
cat >"$work/fake-qemu" <<'EOF'
#!/usr/bin/env bash
# Fake QEMU: writes FAKE_RECORD to the status chardev's file, or hangs if FAKE_HANG.
for a; do [[ $a == file,id=skstat,path=* ]] && status=${a#*path=}; done
# FAKE_INITRD_COPY: where to copy the file given to -initrd.
prev=""
for a; do [[ $prev == -initrd && -n ${FAKE_INITRD_COPY:-} ]] && cp "$a" "$FAKE_INITRD_COPY"; prev=$a; done
[[ -n ${FAKE_HANG:-} ]] && exec sleep 1000
printf '%b' "${FAKE_RECORD:-}" >"$status"
exit 1    # what isa-debug-exit gives for a write of 0
EOF
chmod +x "$work/fake-qemu"
fake() { QEMU=$work/fake-qemu run_script "$image"; }

FAKE_RECORD='skiff-exit:7\n' fake
check "skiff-exit:7 exits 7" status_is 7
FAKE_RECORD='skiff-exit:0\n' fake
check "skiff-exit:0 exits 0" status_is 0
FAKE_RECORD='early debug output\nskiff-exit:255\n' fake
check "the record may follow other output; skiff-exit:255 exits 255" status_is 255
FAKE_RECORD='skiff-panic\n' fake
check "skiff-panic exits 101" status_is 101
FAKE_RECORD='' fake
check "no record exits 125" status_is 125
check "  ... and says so with QEMU's exit code" \
	contains "$err" "without reporting a status (qemu exit code 1)"
FAKE_RECORD='skiff-exit:300\n' fake
check "an out-of-range status is no record: 125" status_is 125
FAKE_HANG=1 QEMU=$work/fake-qemu run_script --timeout 1 "$image"
check "--timeout kills a hung QEMU: 124" status_is 124
check "  ... and says so" contains "$err" "timed out after 1 s"
FAKE_RECORD='skiff-exit:0\n' FAKE_INITRD_COPY=$work/copy.cpio QEMU=$work/fake-qemu \
	run_script --initrd "$work/tree" "$image"
check "--initrd DIR: a newc archive of DIR, names relative to it" \
	equals "$(cpio -it --quiet <"$work/copy.cpio" 2>/dev/null | tr '\n' ' ')" ". etc etc/motd "
check "  ... in the newc format" equals "$(head -c 6 "$work/copy.cpio")" "070701"
QEMU=$work/no-such-qemu run_script "$image"
check "missing QEMU exits 127" status_is 127
check "  ... and points to scripts/deps" contains "$err" "run scripts/deps"
check "no temporary directory left behind after runs" no_tmp_left

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
