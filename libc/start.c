/*
 * libc/start.c - starting the application: what the Linux kernel's exec
 * leaves for a static program, built for musl's __libc_start_main.
 *
 * musl finds argv, the environment and the auxiliary vector in one array,
 * as on a Linux process stack: argc, argv[], NULL, envp[], NULL, then
 * (type, value) pairs ending in AT_NULL.  The application is linked into
 * the kernel image, whose program headers are not in memory, so AT_PHDR
 * points at headers made here: the PT_TLS that describes the image's
 * thread-local storage (arch/x86_64/linker.ld), which musl copies for
 * each thread.
 *
 * The environment comes from the kernel command line: every option of
 * the form KEY=VALUE whose key starts with an upper-case letter (kernel
 * options are lower case).
 */
#include "libc/libc_impl.h"
#include "core/cmdline.h"
#include "core/mm.h"
#include "libc/libc.h"

int main(int argc, char **argv, char **envp);
int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv,
		      void (*init)(void), void (*fini)(void), void (*ldso)(void));

extern char __tdata_start[], __tdata_end[];
extern char __tls_memsz[], __tls_align[];

struct elf64_phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

#define PT_TLS 7

static struct elf64_phdr tls_phdr;
static unsigned char at_random[16];

#define MAX_ENV 32
#define NAUX 16

static int environment_make(const char **env, char (*buf)[128])
{
	const struct cmdline *cl = kernel_cmdline();
	int n = 0;

	for (unsigned int k = 0; k < cl->nopts && n < MAX_ENV; k++) {
		if (cl->key[k][0] >= 'A' && cl->key[k][0] <= 'Z' && cl->val[k][0]) {
			ksnprintf(buf[n], sizeof(buf[n]), "%s=%s", cl->key[k], cl->val[k]);
			env[n] = buf[n];
			n++;
		}
	}
	env[n] = NULL;
	return n;
}

/* Made once: the loader, the start and /proc/self/environ ask for it. */
int libc_environment(const char ***envp)
{
	static char env_buf[MAX_ENV][128];
	static const char *env[MAX_ENV + 1];
	static struct mutex env_lock = MUTEX_INIT;
	static int n = -1;                      /* under env_lock */
	int count;

	WITH_LOCK(&env_lock) {
		if (n < 0)
			n = environment_make(env, env_buf);
		count = n;
	}
	*envp = env;
	return count;
}

__noreturn void libc_start(int argc, char **argv)
{
	const char **env;
	size_t nenv = (size_t)libc_environment(&env), i = 0;

	tls_phdr = (struct elf64_phdr){
		.p_type = PT_TLS, .p_flags = 4,
		.p_vaddr = (uint64_t)__tdata_start,
		.p_filesz = (uint64_t)(__tdata_end - __tdata_start),
		.p_memsz = (uint64_t)__tls_memsz,
		.p_align = (uint64_t)__tls_align ? (uint64_t)__tls_align : 1,
	};
	random_bytes(at_random, sizeof(at_random));

	size_t *v = calloc(1 + argc + 1 + nenv + 1 + 2 * NAUX, sizeof(size_t));
	if (!v)
		panic("no memory to start the application");
	v[i++] = (size_t)argc;
	for (int a = 0; a < argc; a++)
		v[i++] = (size_t)argv[a];
	v[i++] = 0;
	for (size_t e = 0; e < nenv; e++)
		v[i++] = (size_t)env[e];
	v[i++] = 0;
	size_t aux[][2] = {
		{ AT_PHDR, (size_t)&tls_phdr }, { AT_PHENT, sizeof(tls_phdr) }, { AT_PHNUM, 1 },
		{ AT_PAGESZ, 4096 }, { AT_CLKTCK, 100 }, { AT_HWCAP, arch_hwcap() },
		{ AT_HWCAP2, 0 }, { AT_RANDOM, (size_t)at_random },
		{ AT_UID, 0 }, { AT_EUID, 0 }, { AT_GID, 0 }, { AT_EGID, 0 }, { AT_SECURE, 0 },
		{ AT_EXECFN, (size_t)argv[0] }, { AT_PLATFORM, (size_t)"x86_64" },
		{ AT_NULL, 0 },
	};
	BUILD_ASSERT(ARRAY_SIZE(aux) <= NAUX);
	for (size_t a = 0; a < ARRAY_SIZE(aux); a++) {
		v[i++] = aux[a][0];
		v[i++] = aux[a][1];
	}

	libc_main_thread();
	libc_signal_init();
	int status = __libc_start_main(main, argc, (char **)&v[1], NULL, NULL, NULL);
	libc_exit_group(status);                /* not reached: musl calls exit() */
}
