/* test_report.c -- the analyses' shared reporting (analysis/report): TSV
 * numbers and NA, mean and std over pairs, the sum check and its message. */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "analysis/probs.h"
#include "analysis/report.h"

/* what report_num prints for v */
static const char *num(double v, int na)
{
	static char buf[64];
	FILE *fp = fmemopen(buf, sizeof buf, "w");
	report_num(fp, v, na);
	fclose(fp);
	return buf;
}

static int is_str(const char *got, const char *want, const char *what)
{
	int c = !strcmp(got, want);
	ok(c, "%s", what);
	if (!c) diag("got '%s' want '%s'", got, want);
	return c;
}

int main(void)
{
	is_str(num(0.1, 0), "\t0.1", "a number: a tab and %.9g");
	is_str(num(1.0 / 3, 0), "\t0.333333333", "nine significant digits");
	is_str(num(12345678901.0, 0), "\t1.23456789e+10", "large numbers in %g's exponent form");
	is_str(num(NAN, 0), "\tNA", "NaN prints NA");
	is_str(num(2.5, 1), "\tNA", "na set prints NA whatever the value");
	is_str(num(-INFINITY, 0), "\t-inf", "an infinity is printed, not NA");

	double mean, std;
	report_mean_std(1 + 2 + 3, 1 + 4 + 9, 3, &mean, &std);
	is_close(mean, 2, 0, 1e-15, "mean of 1, 2, 3");
	is_close(std, sqrt(2.0 / 3), 1e-15, 0, "population std of 1, 2, 3 (n, not n - 1)");
	double v = 0.1, s = 3 * v, s2 = 3 * v * v;
	report_mean_std(s, s2, 3, &mean, &std);
	ok(std == 0 && s2 / 3 - (s / 3) * (s / 3) <= 0, "equal values: std 0, not the root of a rounding below 0");
	report_mean_std(NAN, NAN, 3, &mean, &std);
	ok(isnan(mean) && isnan(std), "a NaN among the values: mean and std NaN (NA)");

	ok(report_sum_tol(PROBS_F32) == 1e-3 && report_sum_tol(PROBS_F16) == 1e-2, "tolerance on a sum: 1e-3, 1e-2 for f16");
	ok(report_bad_sum(PROBS_F32, 1.0009) == NULL, "f32: a sum of 1.0009 is 1");
	is_str(report_bad_sum(PROBS_F32, 1.002) ? report_bad_sum(PROBS_F32, 1.002) : "(null)", "probabilities do not sum to 1",
	       "f32: a sum of 1.002 is not");
	ok(report_bad_sum(PROBS_F16, 1.002) == NULL, "f16: a sum of 1.002 is 1");
	ok(report_bad_sum(PROBS_F16, 0.98) != NULL, "f16: a sum of 0.98 is not");
	is_str(report_bad_sum(PROBS_F32, NAN) ? report_bad_sum(PROBS_F32, NAN) : "(null)", "NaN or negative probabilities",
	       "a NaN sum: NaN or negative probabilities");

	char err[256];
	report_pos_error(err, sizeof err, "w7", "m2.tns", 12, "probabilities do not sum to 1", 0.5);
	is_str(err, "record w7, model m2.tns, position 12: probabilities do not sum to 1 (sum of probabilities 0.5)",
	       "the position's message names record, model and position");
	return done_testing();
}
