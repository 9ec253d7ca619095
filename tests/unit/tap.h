/* tap.h -- a minimal TAP producer for the C unit tests, run by prove.
 * ok(cond, fmt...) records one test; done_testing() prints the plan and
 * returns the exit status (non-zero when any test failed). */
#ifndef SEQLM_TAP_H
#define SEQLM_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_fail;

static inline int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt); vprintf(fmt, ap); va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!cond) tap_fail++;
	return cond;
}
static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;
	fputs("# ", stdout);
	va_start(ap, fmt); vprintf(fmt, ap); va_end(ap);
	putchar('\n');
}
/* |got - want| <= atol + rtol * |want| */
static inline int is_close(double got, double want, double rtol, double atol, const char *what)
{
	int c = fabs(got - want) <= atol + rtol * fabs(want) && !isnan(got);
	ok(c, "%s", what);
	if (!c) diag("got %.9g want %.9g", got, want);
	return c;
}
/* a TAP skip, and the same line on stderr so that prove's summary shows it */
static inline void skip(const char *why)
{
	printf("ok %d # SKIP %s\n", ++tap_n, why);
	fflush(stdout);
	fprintf(stderr, "# SKIP %s\n", why);
}
static inline int done_testing(void) { printf("1..%d\n", tap_n); return tap_fail != 0; }

#endif
