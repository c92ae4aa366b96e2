/*
 * core/printk.c - formatted output: kvsnprintf and the console printk.
 *
 * Interface: printk(fmt, ...) formats a whole message into a buffer and
 * writes it to the console in one piece, so lines from different CPUs do
 * not interleave.  The formatter understands %d %i %u %x %X %o %c %s %p %%,
 * the flags '-', '0', '+', ' ', a width and precision (also '*'), and the
 * length modifiers hh h l ll z t j.  It never writes past `size` and always
 * terminates; it returns the length the full output would have had.
 * Where it differs from C's printf: %p prints "0x" and hex digits, "0x0" for
 * NULL; there is no '#' flag; an unknown conversion is printed back as '%'
 * and its character (flags, width and precision dropped) and consumes no
 * argument; widths and precisions above 4096 count as 4096.
 */
#include "core/kernel.h"
#include "core/arch.h"

struct out {
	char *buf;
	size_t size, len;
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

#define FIELD_MAX 4096    /* larger widths and precisions are cut to this */

struct spec {
	bool left, zero, plus, space;
	int width, prec;          /* prec < 0: none */
	int len;                  /* 0 int, 1 long, 2 long long, -1 short, -2 char */
};

static void out_string(struct out *o, const char *s, const struct spec *sp)
{
	size_t n;

	if (!s)
		s = "(null)";
	n = sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s);
	if (!sp->left)
		out_pad(o, ' ', sp->width - (int)n);
	for (size_t i = 0; i < n; i++)
		out_char(o, s[i]);
	if (sp->left)
		out_pad(o, ' ', sp->width - (int)n);
}

/* v in `base` after `prefix` (a sign, "0x"), padded to the width with
 * blanks before the prefix or, for the '0' flag, zeros after it. */
static void out_number(struct out *o, unsigned long long v, unsigned int base,
		       bool upper, const char *prefix, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, zeros, plen = (int)strlen(prefix);

	while (v) {
		tmp[n++] = digits[v % base];
		v /= base;
	}
	if (n == 0 && sp->prec != 0)
		tmp[n++] = '0';
	zeros = sp->prec > n ? sp->prec - n : 0;
	if (sp->zero && !sp->left && sp->prec < 0 && sp->width > n + plen)
		zeros = sp->width - n - plen;
	if (!sp->left)
		out_pad(o, ' ', sp->width - n - plen - zeros);   /* '-': out_conversion pads */
	while (*prefix)
		out_char(o, *prefix++);
	out_pad(o, '0', zeros);
	while (n)
		out_char(o, tmp[--n]);
}

/* A decimal width or precision, cut to FIELD_MAX. */
static const char *parse_field(const char *f, int *v)
{
	for (*v = 0; *f >= '0' && *f <= '9'; f++)
		*v = MIN(*v * 10 + (*f - '0'), FIELD_MAX);
	return f;
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	memset(sp, 0, sizeof(*sp));
	sp->prec = -1;
	for (;; f++) {
		if (*f == '-') sp->left = true;
		else if (*f == '0') sp->zero = true;
		else if (*f == '+') sp->plus = true;
		else if (*f == ' ') sp->space = true;
		else break;
	}
	if (*f == '*') {
		long long w = va_arg(*ap, int);
		if (w < 0) {
			sp->left = true;
			w = -w;
		}
		sp->width = (int)MIN(w, FIELD_MAX);
		f++;
	} else {
		f = parse_field(f, &sp->width);
	}
	if (*f == '.') {
		f++;
		if (*f == '*') {
			int p = va_arg(*ap, int);
			sp->prec = p < 0 ? -1 : MIN(p, FIELD_MAX);   /* negative: none */
			f++;
		} else {
			f = parse_field(f, &sp->prec);
		}
	}
	for (;; f++) {
		if (*f == 'l') sp->len++;
		else if (*f == 'h') sp->len--;
		else if (*f == 'z' || *f == 't' || *f == 'j') sp->len = 1;
		else break;
	}
	return f;
}

static unsigned long long arg_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->len >= 2) return va_arg(*ap, unsigned long long);
	if (sp->len == 1) return va_arg(*ap, unsigned long);
	if (sp->len == -1) return (unsigned short)va_arg(*ap, unsigned int);
	if (sp->len <= -2) return (unsigned char)va_arg(*ap, unsigned int);
	return va_arg(*ap, unsigned int);
}

static long long arg_signed(const struct spec *sp, va_list *ap)
{
	if (sp->len >= 2) return va_arg(*ap, long long);
	if (sp->len == 1) return va_arg(*ap, long);
	if (sp->len == -1) return (short)va_arg(*ap, int);
	if (sp->len <= -2) return (signed char)va_arg(*ap, int);
	return va_arg(*ap, int);
}

/* The sign of a signed conversion: '-', or what the '+' and ' ' flags ask. */
static const char *sign_prefix(bool neg, const struct spec *sp)
{
	return neg ? "-" : sp->plus ? "+" : sp->space ? " " : "";
}

static void out_conversion(struct out *o, char c, struct spec *sp, va_list *ap)
{
	size_t start = o->len;
	long long s;

	switch (c) {
	case 'd': case 'i':
		s = arg_signed(sp, ap);
		out_number(o, s < 0 ? -(unsigned long long)s : (unsigned long long)s,
			   10, false, sign_prefix(s < 0, sp), sp);
		break;
	case 'u': out_number(o, arg_unsigned(sp, ap), 10, false, "", sp); break;
	case 'x': out_number(o, arg_unsigned(sp, ap), 16, false, "", sp); break;
	case 'X': out_number(o, arg_unsigned(sp, ap), 16, true, "", sp); break;
	case 'o': out_number(o, arg_unsigned(sp, ap), 8, false, "", sp); break;
	case 'p':
		out_number(o, (uintptr_t)va_arg(*ap, void *), 16, false,
			   sp->plus ? "+0x" : sp->space ? " 0x" : "0x", sp);
		break;
	case 's': out_string(o, va_arg(*ap, const char *), sp); break;
	case 'c':
		if (!sp->left)
			out_pad(o, ' ', sp->width - 1);
		out_char(o, (char)va_arg(*ap, int));
		break;
	case '%':
		out_char(o, '%');
		return;
	default:                 /* unknown: printed back, consuming no argument */
		out_char(o, '%');
		if (c)
			out_char(o, c);
		return;
	}
	if (sp->left && c != 's')
		out_pad(o, ' ', sp->width - (int)(o->len - start));
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	struct spec sp;
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%') {
			out_char(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &aq);
		out_conversion(&o, *fmt, &sp, &aq);
		if (*fmt)
			fmt++;
	}
	va_end(aq);
	if (size)
		buf[MIN(o.len, size - 1)] = 0;
	return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

#ifndef SKIFF_HOST_TEST
void vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = kvsnprintf(buf, sizeof(buf), fmt, ap);

	console_write(buf, MIN((size_t)n, sizeof(buf) - 1));
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}
#endif
