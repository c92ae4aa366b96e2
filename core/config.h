/*
 * core/config.h - build-time options.  Override with `make CONFIG_X=value`
 * (the Makefile passes -DCONFIG_X=value); these are the defaults.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#ifndef CONFIG_MAX_CPUS
#define CONFIG_MAX_CPUS 64          /* a machine with more: a clear message, and the VM ends */
#endif

#ifndef CONFIG_LOG_BOOT
#define CONFIG_LOG_BOOT 0           /* 1: print each boot step (the `bootlog` option does the same) */
#endif

#endif
