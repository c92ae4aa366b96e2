#!/usr/bin/env bash
# tests/unit/tsan.sh - builds the lock-free unit tests with ThreadSanitizer
# (never together with ASan) and runs them.  Prints each test's "ok"/"not
# ok" line and the harness's "N passed, N failed" summary; a race report
# stops the binary before its summary (halt_on_error), which tests/check
# counts as a failure.  Exit status: the test binary's.
#   tests/unit/tsan.sh [BUILD=dir]      (default: build; binaries in dir/tsan)
set -euo pipefail

B=${BUILD:-build}
for arg in "$@"; do
	case $arg in BUILD=*) B=${arg#BUILD=} ;; esac
done
CC=${CC:-gcc}
CFLAGS=(-std=gnu11 -O1 -g -Wall -Wextra -Werror -I. -DSKIFF_HOST_TEST
	-fsanitize=thread -fno-omit-frame-pointer -pthread)

cd "$(dirname "$0")/../.."
mkdir -p "$B/tsan"
"$CC" "${CFLAGS[@]}" -o "$B/tsan/test_spsc" tests/unit/test_spsc.c tests/unit/unit.c
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
	exec "$B/tsan/test_spsc"
