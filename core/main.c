/*
 * core/main.c - kernel_main: the boot sequence, in order.
 *
 * arch_boot_main() (arch/x86_64/setup.c) has set up the console, the
 * descriptor tables and parsed the boot protocol; from here on the steps are
 * generic.  The last one hands the CPU to the application's main(); its
 * return value becomes the VM's exit status.
 */
#include "core/kernel.h"
#include "core/arch.h"
#include "core/boot.h"
#include "core/bootmem.h"
#include "core/cmdline.h"
#include "core/mm.h"
#include "fs/fs.h"
#include "libc/libc.h"
#include "loader/loader.h"
#include "sched/sched.h"

extern const char app_name[];           /* argv[0], from the application's link */
extern const char image_cmdline[];      /* scripts/mkimage --cmdline; often "" */

static struct cmdline cmdline, builtin_cmdline;
static const char *const known_options[] = { "bootlog", "test", "clock", "exec" };

const struct cmdline *kernel_cmdline(void)
{
	return &cmdline;
}

static void check_options(const struct cmdline *cl)
{
	for (unsigned int i = 0; i < cl->nopts; i++) {
		bool known = false;
		for (unsigned int k = 0; k < ARRAY_SIZE(known_options); k++)
			known |= strcmp(cl->key[i], known_options[k]) == 0;
		/* KEY=VALUE with an upper-case key: the application's environment. */
		if (!known && !(cl->key[i][0] >= 'A' && cl->key[i][0] <= 'Z'))
			printk("skiff: ignoring unknown kernel option '%s'\n", cl->key[i]);
	}
}

/* Parses the command line; a bad one is reported by check_cmdline(), once
 * the platform is up (so that the VM can power itself off). */
static const char *cmdline_error;

/* The image's built-in command line and the boot loader's are combined
 * (cmdline_merge, core/cmdline.h): the built-in options first, then the
 * boot line's, which win for the same key; the boot line's arguments
 * replace the built-in ones when it has a "--".  So `scripts/run img --
 * a b` keeps an --exec image's `exec=` and gives the program a b, and a
 * boot option overrides a built-in one (exec=/other). */
static void parse_cmdline(const struct boot_info *bi)
{
	const char *why = NULL;

	if (bi->cmdline_truncated)
		why = "longer than 1023 bytes";
	else if (cmdline_parse(image_cmdline, &builtin_cmdline, &why) == 0 &&
		 cmdline_parse(bi->cmdline, &cmdline, &why) == 0)
		cmdline_merge(&cmdline, &builtin_cmdline, &why);
	cmdline_error = why;
}

static void check_cmdline(const struct boot_info *bi)
{
	if (cmdline_error) {
		printk("skiff: malformed command line: %s\n  \"%s\"\n", cmdline_error, bi->cmdline);
		arch_exit_panic();
	}
	check_options(&cmdline);
}

/* Boot steps, timed: `bootlog` prints them after the banner (boot_us is
 * taken just before the banner is printed; the application starts after). */
static struct { const char *name; uint64_t tsc; } steps[12];
static unsigned int nsteps;

void boot_mark(const char *name)
{
	if (nsteps < ARRAY_SIZE(steps))
		steps[nsteps++] = (typeof(steps[0])){ name, arch_tsc() };
}

static void boot_log_steps(void)
{
	for (unsigned int i = 0; i < nsteps; i++)
		printk("  %-12s done at %6lu us\n", steps[i].name,
		       arch_tsc_to_ns(steps[i].tsc - arch_boot_tsc()) / 1000);
}

static void boot_log(const struct boot_info *bi)
{
	arch_describe();
	printk("skiff: booted by %s, %u memory ranges, %u modules, cmdline \"%s\"\n",
	       bi->protocol, bi->nmem, bi->nmod, bi->cmdline);
	for (unsigned int i = 0; i < bi->nmem; i++)
		printk("  mem %016lx-%016lx type %u\n", bi->mem[i].base,
		       bi->mem[i].base + bi->mem[i].len, bi->mem[i].type);
}

#define APP_STACK (1024 * 1024)

/* The application: an executable from the filesystem with exec=PATH
 * (argv[0] is PATH as given, as a shell passes it), else the one linked
 * into the image. */
static void app_main(void *unused)
{
	const char *path = cmdline_option(&cmdline, "exec");

	(void)unused;
	if (path) {
		cmdline.argv[0] = (char *)path;
		arch_exit(loader_run(path, cmdline.argc + 1, cmdline.argv));
	}
	libc_start(cmdline.argc + 1, cmdline.argv);
}

void kernel_main(struct boot_info *bi)
{
	struct thread *app;
	int ncpus;

	parse_cmdline(bi);
	boot_mark("command line");
	arch_platform_init(bi);
	check_cmdline(bi);
	mm_init(bi);
	boot_mark("memory");
	sched_init();
	boot_mark("scheduler");
	if (vm_init() || shrink_init() || vm_blocks_init())
		panic("no memory for the address space or the shrink thread");
	initramfs_unpack_all(bi);               /* the VFS itself is made on first use */
	boot_mark("filesystems");
	ncpus = arch_smp_start();
	if (ncpus < 0)
		arch_exit_panic();
	boot_mark("CPUs");
	/* mem_mib: usable RAM to the nearest MiB (firmware keeps a few KiB). */
	printk("skiff: boot cpus=%d mem_mib=%lu boot_us=%lu\n", ncpus,
	       (bootmem_ram_bytes() + (1 << 19)) >> 20,
	       arch_tsc_to_ns(arch_tsc() - arch_boot_tsc()) / 1000);
	if (cmdline_option(&cmdline, "bootlog")) {
		boot_log(bi);
		boot_log_steps();
	}
	cmdline.argv[0] = (char *)app_name;
	arch_irq_enable();
	/* The application's main thread, with a stack of Linux-like depth;
	 * this boot thread waits for it (it only ever returns by exiting). */
	app = thread_create(app_main, NULL, &THREAD_ATTR(.name = "main", .stack_size = APP_STACK));
	if (IS_ERR(app))
		panic("no memory for the application's main thread");
	thread_join(app);
	arch_exit(0);
}

/* Every other CPU, once it is up: it becomes that CPU's idle thread. */
void kernel_ap_main(void)
{
	sched_ap_main();
}
