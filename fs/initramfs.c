/*
 * fs/initramfs.c - unpacks cpio archives into the root filesystem at boot.
 *
 * Interface: initramfs_unpack_all(bi) (fs/fs.h), once, at boot:
 * every boot module in the order the loader listed them, then the archive
 * linked into the image (make INITRD=file.cpio; the .initrd section between
 * __initrd_start and __initrd_end, empty when none was linked), so that the
 * linked-in files win over a module's.  Afterwards the modules' memory goes
 * to the page allocator (bootmem_release_modules).
 *
 * Entries (fs/cpio.c parses them): directories with vfs_mkdir, regular files
 * with vfs_open(O_CREAT | O_WRONLY | O_TRUNC) and vfs_write_all, symlinks
 * with vfs_symlink (the data is the target), each with its permission bits;
 * missing parent directories are created (0755).  An existing directory is
 * fine (its mode stays); an existing file is overwritten.  Devices, fifos,
 * sockets and names with a ".." component are skipped with a one-line note;
 * so is an entry the VFS refuses, and unpacking goes on.  A corrupt archive
 * is reported in one line, "skiff: initramfs: <problem> at offset N; kept M
 * entries": what came before the problem stays, and the boot continues.
 * Not kept: mtime, owners, hard links (newc stores a hard link's data with
 * its last name only, so earlier names come out as empty files).
 *
 * Context: boot, thread context, before the application starts (one caller:
 * the walk state is static).
 */
#include "fs/fs.h"
#include "libc/abi.h"            /* before core/kernel.h, as in fs/console.c */
#include "fs/cpio.h"
#include "core/kernel.h"
#include "core/arch.h"
#include "core/boot.h"
#include "core/bootmem.h"

extern const uint8_t __initrd_start[], __initrd_end[];

static struct {
	struct cpio_walk walk;
	char path[CPIO_NAME_MAX];         /* a name being cut into its parents */
	char target[CPIO_NAME_MAX];       /* a symlink's target, NUL-terminated */
	unsigned long skipped;
} un;

/* Creates the parent directories of path (which the VFS said are missing). */
static int make_parents(const char *name)
{
	size_t len = strlen(name);
	int err = 0;

	memcpy(un.path, name, len + 1);
	for (size_t i = 1; i < len && !err; i++) {
		if (un.path[i] != '/')
			continue;
		un.path[i] = 0;
		err = vfs_mkdir(un.path, 0755);
		if (err == -EEXIST)
			err = 0;
		un.path[i] = '/';
	}
	return err;
}

static int make_dir(const struct cpio_entry *e)
{
	int err = vfs_mkdir(e->name, e->mode & 07777);

	return err == -EEXIST ? 0 : err;
}

static int make_file(const struct cpio_entry *e)
{
	struct file *f = vfs_open(e->name, O_CREAT | O_WRONLY | O_TRUNC, e->mode & 07777);
	long n;

	if (IS_ERR(f))
		return (int)PTR_ERR(f);
	n = e->size ? vfs_write_all(f, e->data, e->size) : 0;
	file_put(f);
	if (n < 0)
		return (int)n;
	return n == e->size ? 0 : -EIO;
}

static int make_symlink(const struct cpio_entry *e)
{
	if (e->size == 0 || e->size >= sizeof(un.target) ||
	    strnlen((const char *)e->data, e->size) != e->size)
		return -EINVAL;
	memcpy(un.target, e->data, e->size);
	un.target[e->size] = 0;
	return vfs_symlink(un.target, e->name);
}

/* What an entry becomes; NULL for the types that are skipped. */
static int (*maker(uint32_t mode))(const struct cpio_entry *e)
{
	switch (mode & CPIO_S_IFMT) {
	case CPIO_S_IFDIR: return make_dir;
	case CPIO_S_IFREG: return make_file;
	case CPIO_S_IFLNK: return make_symlink;
	default: return NULL;
	}
}

static const char *type_name(uint32_t mode)
{
	switch (mode & CPIO_S_IFMT) {
	case CPIO_S_IFCHR: return "a character device";
	case CPIO_S_IFBLK: return "a block device";
	case CPIO_S_IFIFO: return "a fifo";
	case CPIO_S_IFSOCK: return "a socket";
	default: return "of an unknown type";
	}
}

static void skip(const struct cpio_entry *e, const char *why, int err)
{
	un.skipped++;
	if (err)
		printk("skiff: initramfs: skipped '%s': %s (error %d)\n", e->raw_name, why, err);
	else
		printk("skiff: initramfs: skipped '%s': %s\n", e->raw_name, why);
}

/* The parser's callback: never stops the walk. */
static int unpack_entry(const struct cpio_entry *e, void *arg)
{
	int (*make)(const struct cpio_entry *e) = maker(e->mode);
	int err;

	(void)arg;
	if (!e->name)
		return skip(e, e->refused, 0), 0;
	if (!make)
		return skip(e, type_name(e->mode), 0), 0;
	if (!e->name[0])
		return 0;                       /* "." itself: the root exists */
	err = make(e);
	if (err == -ENOENT && strchr(e->name, '/') && !(err = make_parents(e->name)))
		err = make(e);
	if (err)
		skip(e, "the filesystem refused it", err);
	return 0;
}

/* Unpacks one archive; what says where it came from. */
static void unpack(const void *archive, size_t len, const char *what)
{
	int err;

	un.skipped = 0;
	err = cpio_parse(archive, len, unpack_entry, NULL, &un.walk);
	if (err) {
		printk("skiff: initramfs: %s: %s at offset %lu; kept %lu entries\n", what,
		       un.walk.what, (unsigned long)un.walk.offset,
		       un.walk.entries - un.skipped);
		return;
	}
	printk("skiff: initramfs: unpacked %lu entries from %s (%lu bytes)\n",
	       un.walk.entries - un.skipped, what, (unsigned long)len);
}

void initramfs_unpack_all(const struct boot_info *bi)
{
	size_t linked = (size_t)(__initrd_end - __initrd_start);
	char what[sizeof(bi->mod[0].name) + 32];

	if (!bi->nmod && !linked && !bi->mod_ignored)
		return;                         /* the usual case: nothing to do */
	if (bi->mod_ignored)
		printk("skiff: initramfs: ignored %u boot module(s): %s\n", bi->mod_ignored,
		       bi->mod_problem);
	for (unsigned int i = 0; i < bi->nmod; i++) {
		const struct boot_module *m = &bi->mod[i];

		ksnprintf(what, sizeof(what), "module %u%s%s%s", i, m->name[0] ? " \"" : "",
			 m->name, m->name[0] ? "\"" : "");
		/* Kept modules lie inside RAM (core/boot.h): the direct map has them. */
		unpack(arch_phys_to_virt(m->start), m->end - m->start, what);
	}
	if (linked)
		unpack(__initrd_start, linked, "the linked-in archive");
	bootmem_release_modules();
}
