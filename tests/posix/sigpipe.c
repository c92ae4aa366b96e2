/* tests/posix/sigpipe.c - a write to a pipe nobody reads raises SIGPIPE,
 * whose default action ends the program (status 128 + 13). */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	int p[2];

	pipe(p);
	close(p[0]);
	printf("writing to a broken pipe\n");
	fflush(stdout);
	write(p[1], "x", 1);
	printf("not reached\n");
	return 0;
}
