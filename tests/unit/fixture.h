/* fixture.h -- reads the golden fixtures written by tests/golden/bert_ref.py:
 * a text index ("seqlm-fixture 1", then "NAME DTYPE NDIM D0 D1 ...", then
 * "end") followed by the raw little-endian payloads in index order. */
#ifndef SEQLM_FIXTURE_H
#define SEQLM_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char name[128];
	int is_int, ndim;
	long dim[4], n;
	void *data;
} fix_tensor;

typedef struct {
	int n;
	fix_tensor t[512];
} fixture;

/* 0 ok, -1 on any problem (message on stderr) */
static int fixture_load(fixture *f, const char *path)
{
	FILE *fp = fopen(path, "rb");
	char line[512];
	memset(f, 0, sizeof *f);
	if (!fp || !fgets(line, sizeof line, fp) || strcmp(line, "seqlm-fixture 1\n") != 0) {
		fprintf(stderr, "fixture: %s: cannot open or not a fixture\n", path);
		if (fp) fclose(fp);
		return -1;
	}
	while (fgets(line, sizeof line, fp) && strcmp(line, "end\n") != 0) {
		fix_tensor *t = &f->t[f->n];
		char dt[8];
		int used = 0;
		if (f->n == 512 || sscanf(line, "%127s %7s %d%n", t->name, dt, &t->ndim, &used) != 3 || t->ndim > 4)
			goto bad;
		t->is_int = strcmp(dt, "i32") == 0;
		t->n = 1;
		char *p = line + used;
		for (int i = 0; i < t->ndim; i++) {
			t->dim[i] = strtol(p, &p, 10);
			t->n *= t->dim[i];
		}
		f->n++;
	}
	for (int i = 0; i < f->n; i++) {
		fix_tensor *t = &f->t[i];
		t->data = malloc(t->n * 4 + 4);
		if (fread(t->data, 4, t->n, fp) != (size_t)t->n) goto bad;
	}
	fclose(fp);
	return 0;
bad:
	fprintf(stderr, "fixture: %s: malformed\n", path);
	fclose(fp);
	return -1;
}

static const fix_tensor *fixture_get(const fixture *f, const char *name)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
	fprintf(stderr, "fixture: no tensor %s\n", name);
	return NULL;
}

static inline const float *fixture_f32(const fixture *f, const char *name)
{
	const fix_tensor *t = fixture_get(f, name);
	return t && !t->is_int ? (const float *)t->data : NULL;
}

static void fixture_free(fixture *f)
{
	for (int i = 0; i < f->n; i++) free(f->t[i].data);
	f->n = 0;
}

/* where the committed test data lives: $SEQLM_TESTDATA or tests/data */
static const char *fixture_dir(void)
{
	const char *d = getenv("SEQLM_TESTDATA");
	return d ? d : "tests/data";
}

/* worst of |c - r| / (|r| + 0.1 max|r|) over the n elements, and (if
 * normwise) the norm-wise relative error ||c - r|| / ||r|| */
static inline double fix_worst(const float *c, const float *r, long n, double *normwise)
{
	double mx = 0, w = 0, se = 0, sr = 0;
	for (long i = 0; i < n; i++) if (fabs(r[i]) > mx) mx = fabs(r[i]);
	for (long i = 0; i < n; i++) {
		double d = (double)c[i] - r[i];
		double e = fabs(d) / (fabs(r[i]) + 0.1 * mx + 1e-30);
		if (!(e <= w)) w = isnan(e) ? INFINITY : e;
		se += d * d, sr += (double)r[i] * r[i];
	}
	if (normwise) *normwise = sr > 0 ? sqrt(se / sr) : sqrt(se);
	return w;
}

#endif
