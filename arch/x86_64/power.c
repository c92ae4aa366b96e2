/*
 * arch/x86_64/power.c - ending the VM.
 *
 * Interface: arch_exit(status) and arch_exit_panic() never return.  In order:
 *   1. the status record on QEMU's isa-debugcon (port 0xe9), which
 *      scripts/run reads: "skiff-exit:N" or "skiff-panic";
 *   2. QEMU's isa-debug-exit (port 0xf4), which ends QEMU at once;
 *   3. ACPI S5 soft-off (PM1 control block, or the HW-reduced sleep register);
 *   4. if all of that failed, say so and halt with interrupts off.
 * Writes to absent I/O ports are ignored on a PC, so each step is harmless
 * where its device is missing.
 */
#include "arch/x86_64/x86_impl.h"
#include "arch/x86_64/acpi_impl.h"

#define DEBUGCON_PORT   0xe9
#define DEBUG_EXIT_PORT 0xf4
#define SLP_EN          (1 << 13)
#define HWR_SLP_EN      (1 << 5)
#define PANIC_STATUS    0x7f

static volatile uint8_t *sleep_reg;     /* HW-reduced sleep control, memory space */

static void debugcon_write(const char *s)
{
	while (*s)
		outb(DEBUGCON_PORT, (uint8_t)*s++);
}

static void acpi_soft_off(void)
{
	if (!acpi.s5_valid)
		return;
	if (acpi.pm1a_cnt_port) {
		outw((uint16_t)acpi.pm1a_cnt_port, (uint16_t)(acpi.s5_slp_typa << 10) | SLP_EN);
		if (acpi.pm1b_cnt_port)
			outw((uint16_t)acpi.pm1b_cnt_port, (uint16_t)(acpi.s5_slp_typb << 10) | SLP_EN);
	} else if (acpi.sleep_control.space == 1 && acpi.sleep_control.addr) {
		outb((uint16_t)acpi.sleep_control.addr, (uint8_t)((acpi.s5_slp_typa & 7) << 2) | HWR_SLP_EN);
	} else if (sleep_reg) {
		*sleep_reg = (uint8_t)((acpi.s5_slp_typa & 7) << 2) | HWR_SLP_EN;
	}
}

/* Maps a memory-space sleep register now, while mapping is safe: at
 * power-off (perhaps after a panic) nothing may be allocated. */
void power_init(void)
{
	if (acpi.sleep_control.space == 0 && acpi.sleep_control.addr)
		sleep_reg = arch_map_mmio(acpi.sleep_control.addr, 1);
}

static __noreturn void power_off(uint8_t debug_exit_value)
{
	arch_irq_disable();
	outl(DEBUG_EXIT_PORT, debug_exit_value);
	acpi_soft_off();
	for (volatile int i = 0; i < 1000000; i++)
		;
	static const char msg[] = "skiff: could not power off (no isa-debug-exit, no ACPI S5); halted\n";
	arch_console_write(msg, sizeof(msg) - 1);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void arch_exit(int status)
{
	char rec[32];

	ksnprintf(rec, sizeof(rec), "skiff-exit:%d\n", status & 0xff);
	debugcon_write(rec);
	power_off((uint8_t)(status & 0x7f));
}

void arch_exit_panic(void)
{
	debugcon_write("skiff-panic\n");
	power_off(PANIC_STATUS);
}
