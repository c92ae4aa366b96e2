/*
 * apps/exec/main.c - the application of an image made with scripts/mkimage
 * --exec: there is none linked in; the program comes from the filesystem
 * (kernel option exec=PATH, which such an image has built in).  This main
 * runs only when the command line has no exec= at all.
 */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "skiff: no application linked in; boot with exec=PATH\n");
	return 127;
}
