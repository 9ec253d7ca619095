/* report.c -- the analyses' shared reporting (see report.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include "analysis/probs.h"
#include "analysis/report.h"

void report_num(FILE *out, double v, int na)
{
	if (na || isnan(v)) fputs("\tNA", out);
	else fprintf(out, "\t%.9g", v);
}

void report_mean_std(double s, double s2, int n, double *mean, double *std)
{
	double m = s / n, var = s2 / n - m * m;
	*mean = m;
	*std = isnan(var) ? NAN : var > 0 ? sqrt(var) : 0;
}

double report_sum_tol(int kind) { return kind == PROBS_F16 ? 1e-2 : 1e-3; }

const char *report_bad_sum(int kind, double sum)
{
	if (isnan(sum)) return "NaN or negative probabilities";
	if (fabs(sum - 1) > report_sum_tol(kind)) return "probabilities do not sum to 1";
	return NULL;
}

void report_pos_error(char *err, int errlen, const char *rec, const char *model, int pos, const char *what, double sum)
{
	snprintf(err, errlen, "record %s, model %s, position %d: %s (sum of probabilities %g)", rec, model, pos, what, sum);
}

void report_die(cli_out *out, tns_writer *w, const char *file, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (w) tns_abort(w);
	if (out) cli_out_abort(out);
	die_file(file, "%s", msg);
}
