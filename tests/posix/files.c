/* tests/posix/files.c - files and directories, with the errno of bad input. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void show(const char *what, int r)
{
	printf("%-28s %3d %s\n", what, r, r < 0 ? strerror(errno) : "");
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	char path[128], buf[64];
	struct stat st;

	snprintf(dir, sizeof(dir), "/tmp/posix-files-%d", (int)getpid());
	show("mkdir", mkdir(dir, 0755));
	show("mkdir again", mkdir(dir, 0755));
	if (chdir(dir))
		return 1;
	int fd = open("a.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
	show("open O_CREAT", fd >= 0 ? 0 : -1);
	show("write", (int)write(fd, "hello, world\n", 13));
	show("lseek end", (int)lseek(fd, 0, SEEK_END));
	show("pread", (int)pread(fd, buf, 5, 7));
	printf("pread got '%.5s'\n", buf);
	show("ftruncate", ftruncate(fd, 5));
	show("fstat", fstat(fd, &st));
	printf("size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
	show("close", close(fd));
	show("close again", close(fd));
	show("read bad fd", (int)read(99, buf, 1));
	show("read bad pointer", (int)read(open("a.txt", O_RDONLY), (void *)1, 4));
	show("open missing", open("nope/x", O_RDONLY));
	show("open O_EXCL exists", open("a.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
	show("open dir for write", open(".", O_WRONLY));
	show("open file as dir", open("a.txt/", O_RDONLY));
	show("mkdir under file", mkdir("a.txt/sub", 0755));
	show("open bad path pointer", open((char *)1, O_RDONLY));
	show("symlink", symlink("a.txt", "link"));
	ssize_t n = readlink("link", buf, sizeof(buf));
	printf("readlink '%.*s'\n", (int)n, buf);
	show("lstat link", lstat("link", &st));
	printf("is link %d\n", S_ISLNK(st.st_mode));
	show("rename", rename("a.txt", "b.txt"));
	show("stat through dangling", stat("link", &st));
	show("mkdir sub", mkdir("sub", 0700));
	show("rmdir non-empty parent", rmdir("."));
	int sfd = open("sub/x", O_CREAT | O_WRONLY, 0600);
	close(sfd);
	show("rmdir non-empty", rmdir("sub"));
	show("unlink dir", unlink("sub"));

	DIR *d = opendir(".");
	char *names[16];
	int count = 0;
	struct dirent *e;
	while ((e = readdir(d)) && count < 16)
		names[count++] = strdup(e->d_name);
	closedir(d);
	qsort(names, count, sizeof(names[0]), cmp);
	printf("entries:");
	for (int i = 0; i < count; i++)
		printf(" %s", names[i]);
	printf("\n");

	fd = open("b.txt", O_RDONLY);
	int fd2 = dup(fd);
	show("dup2", dup2(fd, 42));
	show("fcntl GETFD", fcntl(42, F_GETFD));
	show("fcntl SETFD", fcntl(42, F_SETFD, FD_CLOEXEC));
	show("fcntl GETFD after", fcntl(42, F_GETFD));
	show("read via dup", (int)read(fd2, buf, 10));
	show("read shared offset", (int)read(fd, buf, 10));
	close(fd);
	close(fd2);
	close(42);

	/* A private file mapping: the contents, and writes that stay private. */
	fd = open("b.txt", O_RDWR);
	char *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	printf("mmap file: '%.5s', past the end zero: %d\n", map, map[100] == 0);
	map[0] = 'J';
	show("pread after private write", (int)pread(fd, buf, 5, 0));
	printf("file still '%.5s'\n", buf);
	show("munmap", munmap(map, 8192));
	show("mmap misaligned offset", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 1) == MAP_FAILED ? -1 : 0);
	show("mmap bad fd", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 77, 0) == MAP_FAILED ? -1 : 0);
	close(fd);

	show("unlink", unlink("sub/x"));
	show("rmdir", rmdir("sub"));
	unlink("b.txt");
	unlink("link");
	if (chdir("/"))
		return 1;
	show("rmdir top", rmdir(dir));
	FILE *f = fopen("/proc/meminfo", "r");
	printf("meminfo readable: %d\n", f && fgets(buf, sizeof(buf), f) && !strncmp(buf, "MemTotal:", 9));
	return 0;
}
