/* tnscmp -- compares two tensor streams record by record, for the tests:
 *   tnscmp [-a ATOL] [-r RTOL] GOT.tns WANT.tns
 * Every tensor of WANT must be in GOT's record of the same number and name,
 * with the same shape; integers equal, floats |got - want| <= ATOL + RTOL
 * |want|.  Exit 0 when equal, 1 with the first difference otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "io/tns.h"

static double value(const tns_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case TNS_U8: return ((const uint8_t *)t->data)[i];
	case TNS_I32: return ((const int32_t *)t->data)[i];
	case TNS_I64: return (double)((const int64_t *)t->data)[i];
	case TNS_F16: return tns_f16_to_f32(((const uint16_t *)t->data)[i]);
	case TNS_F32: return ((const float *)t->data)[i];
	case TNS_F64: return ((const double *)t->data)[i];
	}
	return NAN;
}

/* 0 if every record and tensor of want is in got, in order, within the
 * tolerances; 1 (and why, on stderr) if not */
static int compare(tns_reader *g, tns_reader *w, double atol, double rtol, long *n, long *values, double *worst)
{
	tns_record rg, rw;
	for (;;) {
		int kg = tns_read(g, &rg), kw = tns_read(w, &rw);
		if (kg < 0 || kw < 0) { fprintf(stderr, "tnscmp: %s\n", tns_error(kg < 0 ? g : w)); return 1; }
		if (kg != kw) { fprintf(stderr, "tnscmp: record counts differ (record %ld)\n", *n); return 1; }
		if (kg == 0) return 0;
		if (strcmp(rg.name, rw.name)) { fprintf(stderr, "tnscmp: record %ld: %s vs %s\n", *n, rg.name, rw.name); return 1; }
		for (int i = 0; i < rw.n; i++) {
			const tns_tensor *b = &rw.t[i], *a = tns_get(&rg, b->name);
			if (!a) { fprintf(stderr, "tnscmp: record %s: no tensor %s\n", rw.name, b->name); return 1; }
			int same = a->ndim == b->ndim;
			for (int d = 0; same && d < a->ndim; d++) same = a->dim[d] == b->dim[d];
			if (!same) { fprintf(stderr, "tnscmp: record %s: %s shapes differ\n", rw.name, b->name); return 1; }
			int isint = b->dtype == TNS_U8 || b->dtype == TNS_I32 || b->dtype == TNS_I64;
			for (int64_t j = 0; j < tns_numel(b); j++) {
				double x = value(a, j), y = value(b, j), d = fabs(x - y);
				if (d > *worst) *worst = d;
				if ((isint && x != y) || !(d <= atol + rtol * fabs(y))) {
					fprintf(stderr, "tnscmp: record %s: %s[%lld] = %.9g, want %.9g\n", rw.name, b->name, (long long)j, x, y);
					return 1;
				}
				(*values)++;
			}
		}
		(*n)++;
	}
}

int main(int argc, char **argv)
{
	double atol = 0, rtol = 0, worst = 0;
	int c;
	char err[512];
	while ((c = getopt(argc, argv, "a:r:")) != -1) {
		if (c == 'a') atol = atof(optarg);
		else if (c == 'r') rtol = atof(optarg);
		else return 2;
	}
	if (argc - optind != 2) { fprintf(stderr, "usage: tnscmp [-a ATOL] [-r RTOL] GOT WANT\n"); return 2; }
	tns_reader *g = tns_open(argv[optind], err, sizeof err), *w = g ? tns_open(argv[optind + 1], err, sizeof err) : NULL;
	if (!g || !w) {
		fprintf(stderr, "tnscmp: %s\n", err);
		if (g) tns_close_reader(g);
		return 1;
	}
	long n = 0, values = 0;
	int rc = compare(g, w, atol, rtol, &n, &values, &worst);
	if (!rc) printf("tnscmp: %ld records, %ld values equal (largest difference %.3g)\n", n, values, worst);
	tns_close_reader(g);
	tns_close_reader(w);
	return rc;
}
