/* window.c -- token windows and the train/eval split (see window.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/util.h"
#include "base/rng.h"
#include "tok/vocab.h"
#include "tok/window.h"

enum { NAME_MAX_LEN = 4096 };

void win_init(win_writer *w, const win_opts *o, const tok_ids *ids, win_write_fn write, void *ctx)
{
	memset(w, 0, sizeof *w);
	w->o = *o;
	w->beg = ids->beg, w->end = ids->end, w->pad = ids->pad;
	w->per = o->T - (ids->beg >= 0) - (ids->end >= 0);
	w->write = write;
	w->ctx = ctx;
	w->win = xmalloc(o->T * sizeof *w->win);
	w->name = xmalloc(NAME_MAX_LEN);
}

void win_free(win_writer *w)
{
	free(w->win);
	free(w->name);
	memset(w, 0, sizeof *w);
}

int win_is_eval(const char *name, uint64_t seed, double eval_frac)
{
	/* a pure function of the name, so the split does not depend on the
	 * order or grouping of the input files */
	uint64_t h = rng_hash4(seed, rng_fnv1a(name, strlen(name)), 0x73706c6974ULL, 0);
	return rng_u01(h) < eval_frac;
}

int win_in_split(const win_opts *o, const char *name)
{
	if (o->split == WIN_ALL) return 1;
	return win_is_eval(name, o->split_seed, o->eval_frac) == (o->split == WIN_EVAL);
}

/* "prefix:beg-end" without printf's format parsing, which showed in profiles
 * of fast k-mer runs (one name per window) */
static void make_name(char *out, size_t cap, const char *prefix, int64_t beg, int64_t end)
{
	char num[48], *p = num + sizeof num;
	*--p = 0;
	do { *--p = (char)('0' + end % 10); end /= 10; } while (end);
	*--p = '-';
	do { *--p = (char)('0' + beg % 10); beg /= 10; } while (beg);
	*--p = ':';
	size_t lp = strlen(prefix), ln = (size_t)(num + sizeof num - 1 - p);
	if (lp + ln + 1 > cap) lp = cap - ln - 1;      /* cut an over-long sequence name */
	memcpy(out, prefix, lp);
	memcpy(out + lp, p, ln + 1);
}

static long count_n(const char *s, long n)
{
	long c = 0;
	for (long i = 0; i < n; i++) c += s[i] == 'N';
	return c;
}

int win_chunk(win_writer *w, const char *prefix, int64_t offset, const char *bytes, long nbytes,
              const int32_t *ids, const int32_t *pos, const int32_t *len, long nt)
{
	int T = w->o.T, per = w->per;
	(void)nbytes;
	for (long a = 0; a < nt; a += per) {
		long b = a + per < nt ? a + per : nt;
		int64_t beg = pos[a], end = pos[b - 1] + len[b - 1];
		if (w->o.skip_n >= 0 && bytes && count_n(bytes + beg, end - beg) > w->o.skip_n * (double)(end - beg)) {
			w->n_dropped_n++;
			continue;
		}
		make_name(w->name, NAME_MAX_LEN, prefix, offset + beg + 1, offset + end);
		if (!win_in_split(&w->o, w->name)) { w->n_other_split++; continue; }
		int32_t *x = w->win;
		long k = 0;
		if (w->beg >= 0) x[k++] = w->beg;
		memcpy(x + k, ids + a, (b - a) * sizeof *x);
		k += b - a;
		if (w->end >= 0) x[k++] = w->end;
		while (k < T) x[k++] = w->pad;
		if (w->write(w->ctx, w->name, x, T) < 0) return -1;
		if (w->o.max_windows >= 0 && ++w->nwritten >= w->o.max_windows) return 1;
		if (w->o.max_windows < 0) w->nwritten++;
	}
	return 0;
}
