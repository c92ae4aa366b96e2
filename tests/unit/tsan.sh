#!/usr/bin/env bash
# tests/unit/tsan.sh - builds a unit test of lock-free code with
# ThreadSanitizer (never together with ASan) and runs it: spsc (the
# default) or fd (the descriptor table's lock-free lookups).  Prints each
# test's "ok"/"not ok" line and the harness's "N passed, N failed" summary;
# a race report stops the binary before its summary (halt_on_error), which
# tests/check counts as a failure.  Exit status: the test binary's.
#   tests/unit/tsan.sh [BUILD=dir] [spsc|fd]   (default: build; binaries in dir/tsan)
set -euo pipefail

B=${BUILD:-build}
T=spsc
for arg in "$@"; do
	case $arg in
	BUILD=*) B=${arg#BUILD=} ;;
	spsc|fd) T=$arg ;;
	*) echo "tsan.sh: unknown argument $arg" >&2; exit 2 ;;
	esac
done
CC=${CC:-gcc}
CFLAGS=(-std=gnu11 -O1 -g -Wall -Wextra -Werror -I. -DSKIFF_HOST_TEST
	-fsanitize=thread -fno-omit-frame-pointer -pthread)
case $T in
spsc) SRC=() ;;
fd) SRC=(fs/fd.c fs/file.c tests/unit/host_kernel.c) ;;
esac

cd "$(dirname "$0")/../.."
mkdir -p "$B/tsan"
"$CC" "${CFLAGS[@]}" -o "$B/tsan/test_$T" "tests/unit/test_$T.c" tests/unit/unit.c "${SRC[@]}"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
	exec "$B/tsan/test_$T"
