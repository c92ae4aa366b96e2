/*
 * tests/fuzz/seed_file.h - what the fuzz targets' seed writers share:
 * writing one seed into the corpus directory.
 */
#ifndef TESTS_FUZZ_SEED_FILE_H
#define TESTS_FUZZ_SEED_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Writes data[0..len) to dir/name: 0, or -1 on any error. */
static inline int seed_file_write(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	if (fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

#endif
