/* tests/posix/misc.c - clocks, sleeping, stdio with floating point,
 * constructors, atexit, and the exit status. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int constructed;

__attribute__((constructor)) static void ctor(void) { constructed = 42; }
static void bye(void) { printf("atexit handler ran\n"); }

int main(int argc, char **argv)
{
	struct timespec a, b, res;

	printf("argc %d, argv[1] %s\n", argc, argc > 1 ? argv[1] : "(none)");
	printf("constructor: %d\n", constructed);
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	nanosleep(&nap, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	printf("slept >= 20 ms: %d\n", ms >= 20);
	clock_getres(CLOCK_MONOTONIC, &res);
	printf("resolution <= 1 ms: %d\n", res.tv_sec == 0 && res.tv_nsec <= 1000000);
	printf("realtime after 2020: %d\n", time(NULL) > 1577836800);
	printf("floats: %.3f %e %g %a\n", 3.14159265, 6.02214076e23, 1.0 / 3, 0.5);
	printf("math: %.6f %.6f\n", sqrt(2.0), exp(1.0));
	printf("strtod: %.2f\n", strtod("  -12.75xyz", NULL));
	char buf[64];
	snprintf(buf, sizeof(buf), "%08.3f|%-6s|%x", 2.5, "ab", 255);
	printf("snprintf: %s\n", buf);
	struct utsname u;
	uname(&u);
	printf("uname machine: %s\n", u.machine);
	printf("page size: %ld\n", sysconf(_SC_PAGESIZE));
	printf("cpus online >= 1: %d\n", sysconf(_SC_NPROCESSORS_ONLN) >= 1);
	char *env = getenv("HOME");
	printf("getenv of unset: %s\n", env && strcmp(env, "") ? "set" : "unset-or-empty");
	atexit(bye);
	return 3;
}
