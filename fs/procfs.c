/*
 * fs/procfs.c - /proc and /sys: the few generated files applications and
 * their libraries read to size themselves.
 *
 *   /proc/meminfo     memory in Linux's format, from mm_stats()
 *   /proc/slabinfo    the heap's size classes (malloc_stats_get), slabinfo 2.1
 *   /proc/vmstat      the VM's counters: faults, huge pages, splits
 *   /proc/cpuinfo     one block per online CPU
 *   /proc/mounts      the mount table (as /proc/self/mounts)
 *   /proc/self/       the application (one per VM): fs/procfs_self.c
 *   /proc/uptime      seconds since boot
 *   /sys/devices/system/cpu/online and possible   "0-N"
 *
 * Each is generated when opened (fs/synthfs.c), ksnprintf-style: a
 * generator writes at most size bytes and returns the length it needed.
 */
#include "fs/procfs_impl.h"
#include "core/arch.h"
#include "core/mm.h"

#define put procfs_put

void procfs_put(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*pos += (size_t)kvsnprintf(*pos < size ? buf + *pos : NULL,
				  *pos < size ? size - *pos : 0, fmt, ap);
	va_end(ap);
}

static size_t gen_meminfo(char *buf, size_t size)
{
	struct mm_stats s;
	size_t pos = 0;
	uint64_t cached = ramfs_pages() * (PAGE_SIZE / 1024);

	mm_stats(&s);
	put(buf, size, &pos, "MemTotal:       %8lu kB\n", s.total_bytes >> 10);
	put(buf, size, &pos, "MemFree:        %8lu kB\n", s.free_bytes >> 10);
	put(buf, size, &pos, "MemAvailable:   %8lu kB\n", s.free_bytes >> 10);
	put(buf, size, &pos, "Buffers:        %8lu kB\n", 0UL);
	put(buf, size, &pos, "Cached:         %8lu kB\n", cached);
	put(buf, size, &pos, "SwapCached:     %8lu kB\n", 0UL);
	put(buf, size, &pos, "Shmem:          %8lu kB\n", cached);
	put(buf, size, &pos, "SwapTotal:      %8lu kB\n", 0UL);
	put(buf, size, &pos, "SwapFree:       %8lu kB\n", 0UL);
	put(buf, size, &pos, "AnonHugePages:  %8lu kB\n", s.used_huge * 2048);
	put(buf, size, &pos, "HugePages_Total:   %5lu\n", 0UL);
	put(buf, size, &pos, "HugePages_Free:    %5lu\n", 0UL);
	put(buf, size, &pos, "HugePages_Rsvd:    %5lu\n", 0UL);
	put(buf, size, &pos, "HugePages_Surp:    %5lu\n", 0UL);
	put(buf, size, &pos, "Hugepagesize:   %8lu kB\n", 2048UL);
	return pos;
}

/* The heap's size classes in slabinfo 2.1's layout, as kmalloc-SIZE
 * caches: objects in use and made, object size, objects per 64 KiB slab
 * (16 pages), and the slabs; then one line for the large blocks
 * (their bytes in use as 4 KiB "objects"). */
static size_t gen_slabinfo(char *buf, size_t size)
{
	static struct malloc_stats s;           /* 1.4 KiB: not on the stack */
	static struct mutex lock = MUTEX_INIT;
	size_t pos = 0;

	WITH_LOCK(&lock) {
		malloc_stats_get(&s);
		put(buf, size, &pos, "slabinfo - version: 2.1\n# name            <active_objs> "
		    "<num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> "
		    "<batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> "
		    "<sharedavail>\n");
		for (unsigned int c = 0; c < MALLOC_NCLASSES; c++) {
			const struct malloc_class_stats *k = &s.cls[c];
			uint64_t made = k->objects_in_use + k->bytes_free / k->size;

			put(buf, size, &pos, "kmalloc-%-7lu %6lu %6lu %6lu %4lu %4u : tunables 0 0 0 "
			    ": slabdata %6lu %6lu 0\n", k->size, k->objects_in_use, made, k->size,
			    k->slabs ? made / k->slabs : 0, 16, k->slabs, k->slabs);
		}
		put(buf, size, &pos, "large-blocks   %6lu %6lu %6u %4u %4u : tunables 0 0 0 "
		    ": slabdata %6lu %6lu 0\n", s.large_bytes / 4096, s.large_bytes / 4096, 4096,
		    1, 1, s.large_blocks, s.large_blocks);
	}
	return pos;
}

/* The VM's counters under Linux's /proc/vmstat names. */
static size_t gen_vmstat(char *buf, size_t size)
{
	struct vm_stats v;
	struct mm_stats m;
	size_t pos = 0;

	vm_get_stats(&v);
	mm_stats(&m);
	put(buf, size, &pos, "nr_free_pages %lu\n", m.free_bytes / 4096);
	put(buf, size, &pos, "nr_anon_pages %lu\n", v.small_pages + v.huge_pages * 512);
	put(buf, size, &pos, "nr_anon_transparent_hugepages %lu\n", v.huge_pages);
	put(buf, size, &pos, "nr_mapped %lu\n", v.file_pages);
	put(buf, size, &pos, "pgfault %lu\n", v.faults);
	put(buf, size, &pos, "pgmajfault 0\n");
	put(buf, size, &pos, "thp_fault_alloc %lu\n", v.huge_faults);
	put(buf, size, &pos, "thp_split_pmd %lu\n", v.splits);
	return pos;
}

static size_t gen_cpuinfo(char *buf, size_t size)
{
	unsigned int n = __atomic_load_n(&ncpus_online, __ATOMIC_ACQUIRE);
	uint64_t khz = arch_tsc_khz();
	char vendor[13], model[49];
	size_t pos = 0;

	arch_cpu_names(vendor, model);
	for (unsigned int i = 0; i < n; i++) {
		put(buf, size, &pos, "processor\t: %u\nvendor_id\t: %s\nmodel name\t: %s\n",
		    i, vendor, model);
		put(buf, size, &pos, "cpu MHz\t\t: %lu.%03lu\n", khz / 1000, khz % 1000);
		put(buf, size, &pos, "physical id\t: 0\nsiblings\t: %u\ncore id\t\t: %u\n"
		    "cpu cores\t: %u\napicid\t\t: %u\n", n, i, n, cpus[i].apic_id);
		put(buf, size, &pos, "flags\t\t: fpu tsc msr apic sse sse2 lm\n\n");
	}
	return pos;
}

/* The tree vfs_tree_build makes (/tmp is a directory of the root). */
size_t procfs_mounts(char *buf, size_t size)
{
	return (size_t)ksnprintf(buf, size, "ramfs / ramfs rw 0 0\n"
				 "devtmpfs /dev devtmpfs rw 0 0\n"
				 "proc /proc proc rw 0 0\n"
				 "sysfs /sys sysfs rw 0 0\n");
}

static size_t gen_uptime(char *buf, size_t size)
{
	uint64_t ms = arch_clock_ns() / 1000000;

	return (size_t)ksnprintf(buf, size, "%lu.%02lu 0.00\n", ms / 1000, ms % 1000 / 10);
}

static size_t gen_cpus(char *buf, size_t size, unsigned int n)
{
	if (n <= 1)
		return (size_t)ksnprintf(buf, size, "0\n");
	return (size_t)ksnprintf(buf, size, "0-%u\n", n - 1);
}

static size_t gen_online(char *buf, size_t size)
{
	return gen_cpus(buf, size, __atomic_load_n(&ncpus_online, __ATOMIC_ACQUIRE));
}

static size_t gen_possible(char *buf, size_t size)
{
	return gen_cpus(buf, size, arch_ncpus_possible());
}

#define DIR (S_IFDIR | 0555)
#define GEN (S_IFREG | 0444)
#define LNK (S_IFLNK | 0777)

static const struct synth_entry proc_files[] = {
	{ "meminfo", GEN, NULL, gen_meminfo, 0, NULL, NULL },
	{ "cpuinfo", GEN, NULL, gen_cpuinfo, 0, NULL, NULL },
	{ "uptime", GEN, NULL, gen_uptime, 0, NULL, NULL },
	{ "mounts", GEN, NULL, procfs_mounts, 0, NULL, NULL },
	{ "slabinfo", S_IFREG | 0400, NULL, gen_slabinfo, 0, NULL, NULL },
	{ "vmstat", GEN, NULL, gen_vmstat, 0, NULL, NULL },
	{ "self", DIR, NULL, NULL, 0, NULL, NULL },
	{ "self/cmdline", GEN, NULL, procfs_self_cmdline, 0, NULL, NULL },
	{ "self/comm", GEN, NULL, procfs_self_comm, 0, NULL, NULL },
	{ "self/environ", GEN, NULL, procfs_self_environ, 0, NULL, NULL },
	{ "self/exe", LNK, NULL, procfs_self_exe, 0, NULL, NULL },
	{ "self/fd", S_IFDIR | 0500, NULL, NULL, 0, NULL, &procfs_self_fd },
	{ "self/maps", GEN, NULL, procfs_self_maps, 0, NULL, NULL },
	{ "self/mounts", GEN, NULL, procfs_mounts, 0, NULL, NULL },
	{ "self/stat", GEN, NULL, procfs_self_stat, 0, NULL, NULL },
	{ "self/statm", GEN, NULL, procfs_self_statm, 0, NULL, NULL },
	{ "self/status", GEN, NULL, procfs_self_status, 0, NULL, NULL },
};

static const struct synth_entry sys_files[] = {
	{ "devices", DIR, NULL, NULL, 0, NULL, NULL },
	{ "devices/system", DIR, NULL, NULL, 0, NULL, NULL },
	{ "devices/system/cpu", DIR, NULL, NULL, 0, NULL, NULL },
	{ "devices/system/cpu/online", GEN, NULL, gen_online, 0, NULL, NULL },
	{ "devices/system/cpu/possible", GEN, NULL, gen_possible, 0, NULL, NULL },
};

struct mount *procfs_mount(struct vnode *on)
{
	return synth_mount(on, proc_files, ARRAY_SIZE(proc_files));
}

struct mount *sysfs_mount(struct vnode *on)
{
	return synth_mount(on, sys_files, ARRAY_SIZE(sys_files));
}
