/* report.h -- what the analyses (entropy, disagree) share when they report:
 * numbers in their TSV (%.9g; NA for a value that is not defined), the
 * spread of a statistic over pairs, and the check that a distribution read
 * from lmprobe output sums to 1 with its message; how they stop on bad
 * input. */
#ifndef SEQLM_REPORT_H
#define SEQLM_REPORT_H

#include <stdio.h>
#include "base/cli.h"
#include "io/tns.h"

/* "\t%.9g", or "\tNA" when v is NaN or na is set */
void report_num(FILE *out, double v, int na);
/* the mean and population std of n values from their sum s and sum of
 * squares s2; the std is 0 when rounding makes the variance negative, NaN
 * when the values hold a NaN */
void report_mean_std(double s, double s2, int n, double *mean, double *std);
/* the tolerance on the sum of one distribution of a stream of this kind
 * (PROBS_*): f16 rounds each entry to 2^-11 */
double report_sum_tol(int kind);
/* NULL when a distribution summing to sum is one, else what is wrong
 * ("NaN or negative probabilities", "probabilities do not sum to 1") */
const char *report_bad_sum(int kind, double sum);
/* the message for a bad distribution at one position:
 * "record R, model M, position P: WHAT (sum of probabilities S)" */
void report_pos_error(char *err, int errlen, const char *rec, const char *model, int pos, const char *what, double sum);

/* a tool's end on bad input: the output being written is removed (the
 * temporary file of out, the stream of w; either may be NULL), then
 * "prog: error: FILE: message", exit 1 */
void report_die(cli_out *out, tns_writer *w, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));

#endif
