# tests/boot/lib.sh - what the boot-test scripts share, sourced after they
# set ROOT: boot an image once and keep what it printed, and print one
# result line per check.  Sets RUN, work (a directory removed at exit),
# passed and failed; after boot: out (the console, without CRs) and rc.

RUN=$ROOT/scripts/run
work=$(mktemp -d "${TMPDIR:-/tmp}/skiff-boot-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
unset SKIFF_CMDLINE
passed=0 failed=0

# boot_with SKIFF_CMDLINE scripts/run-ARGS...: boots once (kernel options
# in the first argument); boot ARGS...: the same with none.
boot_with() {
	local cmdline=$1; shift
	rc=0
	SKIFF_CMDLINE=$cmdline "$RUN" --timeout 60 "$@" >"$work/out" 2>"$work/err" </dev/null || rc=$?
	out=$(tr -d '\r' <"$work/out")
}

boot() {
	boot_with "" "$@"
}

# check NAME COND...: one result line; on failure, what the guest said.
check() {
	local name=$1; shift
	if "$@"; then
		echo "ok - $name"; passed=$((passed + 1))
	else
		echo "not ok - $name (exit $rc)"; failed=$((failed + 1))
		sed 's/^/#   /' "$work/out" | tail -25
		sed 's/^/#   stderr: /' "$work/err" | tail -5
	fi
}

has() { grep -qF -- "$1" <<<"$out"; }
has_re() { grep -qE -- "$1" <<<"$out"; }

summary() {
	echo "$passed passed, $failed failed"
	[[ $failed -eq 0 ]]
}
