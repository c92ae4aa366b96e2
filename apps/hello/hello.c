/*
 * apps/hello/hello.c - the default application: greets, echoes its
 * arguments, and exits 0.  `make run` boots it; later issues replace it with
 * the memcached appliance.
 */
#include <string.h>
#include <unistd.h>

static void put(const char *s)
{
	write(1, s, strlen(s));
}

int main(int argc, char **argv)
{
	put("Hello from Skiff!\n");
	for (int i = 1; i < argc; i++) {
		put("  arg: ");
		put(argv[i]);
		put("\n");
	}
	return 0;
}
