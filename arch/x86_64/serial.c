/*
 * arch/x86_64/serial.c - the 16550 UART on COM1, the console.
 *
 * Interface: serial_init() once, early; serial_write() sends bytes, turning
 * "\n" into "\r\n".  Polled output: the console is for messages, not data.
 */
#include "arch/x86_64/x86_impl.h"

#define COM1 0x3f8
enum { THR = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5, DLL = 0, DLM = 1 };
#define LSR_THRE 0x20

static bool serial_present;

void serial_init(void)
{
	outb(COM1 + IER, 0x00);
	outb(COM1 + LCR, 0x80);          /* DLAB: set the divisor */
	outb(COM1 + DLL, 0x01);          /* 115200 baud */
	outb(COM1 + DLM, 0x00);
	outb(COM1 + LCR, 0x03);          /* 8N1 */
	outb(COM1 + FCR, 0xc7);          /* FIFO on, cleared */
	outb(COM1 + MCR, 0x03);          /* DTR, RTS */
	serial_present = inb(COM1 + LSR) != 0xff;   /* floating bus: no UART */
}

static void serial_putc(char c)
{
	/* Bounded wait: a UART that never drains must not hang the kernel. */
	for (int i = 0; i < 100000 && !(inb(COM1 + LSR) & LSR_THRE); i++)
		arch_cpu_relax();
	outb(COM1 + THR, (uint8_t)c);
}

void arch_console_write(const char *s, size_t len)
{
	if (!serial_present)
		return;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}
