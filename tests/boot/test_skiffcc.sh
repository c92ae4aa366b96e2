#!/usr/bin/env bash
# tests/boot/test_skiffcc.sh - scripts/skiff-cc, the compiler driver for
# configure-based builds, end to end: objects compiled with -c (one into
# an archive, with the stack protector on) link into a static Linux
# executable that runs on the host, and the same objects, linked with
# SKIFF_IMAGE=1, into a Skiff image that prints the same and ends with the
# same status; the host executable also runs unmodified in Skiff
# (mkimage --exec); and the driver answers what configure asks
# (-dumpmachine, -E on stdin, a compile error) and refuses what it cannot
# do (-shared, shared libraries, a missing archive in an image link) with
# exit 2 and a message.
# Usage: tests/boot/test_skiffcc.sh BUILD_DIR.  Prints "ok - NAME" / "not
# ok - NAME" per case, then "N passed, N failed".
set -uo pipefail

B=$(realpath -m "${1:-build}")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/boot/lib.sh"
export SKIFF_BUILD=$B
unset SKIFF_IMAGE
CC=$ROOT/scripts/skiff-cc

# on_host CMD...: runs a command in $work as boot does a guest: sets out
# (stdout) and rc; stderr in $work/err.
on_host() {
	rc=0
	(cd "$work" && "$@") >"$work/out" 2>"$work/err" </dev/null || rc=$?
	out=$(cat "$work/out")
}
# app_lines: the application's lines of the last run (Skiff's own left out).
app_lines() { grep -v '^skiff: ' <<<"$out"; }
err_has() { grep -qF -- "$1" "$work/err"; }

# --- a two-file program, its library part in an archive ---
mkdir -p "$work/include"
cat >"$work/include/util.h" <<'EOF'
void util_greet(char *buf, unsigned long size, const char *who);
long util_sum(long n);
EOF
cat >"$work/util.c" <<'EOF'
#include <pthread.h>
#include <stdio.h>
#include "util.h"
void util_greet(char *buf, unsigned long size, const char *who)
{
	char local[32];   /* with -fstack-protector-all: a canary check */
	snprintf(local, sizeof local, "%s", who);
	snprintf(buf, size, GREETING ", %s!", local);
}
static void *sum(void *arg)
{
	long n = *(long *)arg, s = 0;
	for (long i = 1; i <= n; i++)
		s += i;
	*(long *)arg = s;
	return NULL;
}
long util_sum(long n)
{
	pthread_t t;
	if (pthread_create(&t, NULL, sum, &n) != 0 || pthread_join(t, NULL) != 0)
		return -1;
	return n;
}
EOF
cat >"$work/main.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include "util.h"
int main(int argc, char **argv)
{
	char buf[64];
	util_greet(buf, sizeof buf, argc > 1 ? argv[1] : "world");
	printf("%s\nsum=%ld\n", buf, util_sum(100));
	char *p = malloc(1 << 20);
	printf("malloc %s\n", p ? "ok" : "failed");
	free(p);
	return 7;
}
EOF
expected=$'Hello, world!\nsum=5050\nmalloc ok'

# Case 1: compile, archive, link, run natively.
on_host eval '"$CC" -I include -DGREETING="\"Hello\"" -fstack-protector-all -O2 -c util.c -o util.o &&
	ar rcs libskcc.a util.o && "$CC" -o main.o -c main.c -Iinclude -g &&
	"$CC" main.o -L. -lskcc -lpthread -lm -Wl,--gc-sections -o prog'
check "skiff-cc -c twice, ar, skiff-cc link: builds" eval '[ $rc -eq 0 ] && [ -x "$work/prog" ]'
check "the objects use the kernel code model (R_X86_64_32S), as mkimage requires" \
	eval 'grep -q R_X86_64_32S <<<"$(readelf -rW "$work/main.o")" && grep -q R_X86_64_32S <<<"$(readelf -rW "$work/util.o")"'
check "util.o's stack protector reads musl's canary at %fs:40" \
	eval 'dis=$(objdump -d "$work/util.o") && grep -q "%fs:0x28" <<<"$dis" && ! grep -q "%gs:" <<<"$dis"'
check "the executable is static (no interpreter)" \
	eval '! grep -q INTERP <<<"$(readelf -lW "$work/prog")" && grep -q "EXEC " <<<"$(readelf -hW "$work/prog")"'
on_host ./prog
native_out=$out native_rc=$rc
check "it runs on the host: output and exit status 7" eval '[ $rc -eq 7 ] && [ "$out" = "$expected" ]'

# Case 2: the same objects as an image (SKIFF_IMAGE=1), booted.
on_host env SKIFF_IMAGE=1 "$CC" -o skiffcc-prog.elf main.o -L. -lskcc -lpthread -Wl,-O1
check "SKIFF_IMAGE=1: the same objects link into an image (-Wl, ignored with a note)" \
	eval '[ $rc -eq 0 ] && [ -s "$work/skiffcc-prog.elf" ] && err_has "ignoring -Wl,-O1" && [ -z "$out" ]'
boot "$work/skiffcc-prog.elf"
check "the image prints what the host run printed, status 7" \
	eval '[ $rc -eq $native_rc ] && [ "$(app_lines)" = "$native_out" ]'
boot "$work/skiffcc-prog.elf" -- Skiff
check "arguments reach the linked-in main" eval '[ $rc -eq 7 ] && has "Hello, Skiff!"'

# The host executable, unmodified, in Skiff; sources and objects in one
# --skiff-image call.
on_host "$ROOT/scripts/mkimage" --exec prog -o skiffcc-exec.elf
boot "$work/skiffcc-exec.elf"
check "the host executable runs unmodified in Skiff (mkimage --exec), status 7" \
	eval '[ $rc -eq 7 ] && [ "$(app_lines)" = "$native_out" ]'
on_host "$CC" --skiff-image -Iinclude '-DGREETING="Hi"' main.c util.c -o skiffcc-src.elf
boot "$work/skiffcc-src.elf"
check "--skiff-image with two sources in one call (-D/-I reach them)" \
	eval '[ $rc -eq 7 ] && has "Hi, world!" && has "sum=5050"'

# Case 3: what configure asks, and what is refused.
on_host "$CC" -dumpmachine
check "-dumpmachine prints x86_64-linux-musl" eval '[ $rc -eq 0 ] && [ "$out" = x86_64-linux-musl ]'
on_host sh -c 'printf "#include <stdio.h>\nbufsiz BUFSIZ\n" | "$0" -E -' "$CC"
check "-E - preprocesses stdin with Skiff's musl headers" \
	eval '[ $rc -eq 0 ] && [[ $(grep -v "^#" <<<"$out" | tr -s " \n" " ") == *"bufsiz 1024"* ]] &&
	grep -qF "\"$ROOT/build/musl/include/stdio.h\"" <<<"$out"'
on_host "$CC" --version
check "--version answers (gcc's), status 0" eval '[ $rc -eq 0 ] && has "gcc"'
printf 'int main(void) { return undeclared; }\n' >"$work/bad.c"
on_host "$CC" bad.c -o bad
check "a source that does not compile: gcc's status 1, no output" \
	eval '[ $rc -eq 1 ] && [ ! -e "$work/bad" ] && err_has "undeclared"'
on_host "$CC" -shared -o libx.so util.o
check "-shared: exit 2 and a message" eval '[ $rc -eq 2 ] && err_has "skiff-cc: -shared is not supported"'
on_host "$CC" main.o /usr/lib/x86_64-linux-musl/libc.so -o x
check "a shared library input: exit 2 and a message" \
	eval '[ $rc -eq 2 ] && err_has "shared libraries are not supported"'
on_host "$CC" --skiff-image main.o -lnothere -o skiffcc-x.elf
check "image link, -l with no archive: exit 2 and a message" \
	eval '[ $rc -eq 2 ] && err_has "-lnothere: no libnothere.a"'

summary
