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
	if (o->pack) {
		w->pk = xmalloc(o->T * sizeof *w->pk);
		w->pkname = xmalloc(NAME_MAX_LEN);
	}
}

void win_free(win_writer *w)
{
	free(w->win);
	free(w->name);
	free(w->pk);
	free(w->pkname);
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

/* one window: start token, n tokens, end token, padding; returns as win_chunk */
static int put_window(win_writer *w, const char *name, const int32_t *tok, long n)
{
	int32_t *x = w->win;
	long k = 0;
	if (w->beg >= 0) x[k++] = w->beg;
	memcpy(x + k, tok, n * sizeof *x);
	k += n;
	if (w->end >= 0) x[k++] = w->end;
	while (k < w->o.T) x[k++] = w->pad;
	if (w->write(w->ctx, name, x, w->o.T) < 0) return -1;
	if (w->o.max_windows >= 0 && ++w->nwritten >= w->o.max_windows) return 1;
	if (w->o.max_windows < 0) w->nwritten++;
	return 0;
}

/* --pack: the window being filled goes out, named after its first document */
static int pack_flush(win_writer *w)
{
	if (!w->npk) return 0;
	if (w->pkdocs > 1) {
		size_t l = strlen(w->pkname);
		snprintf(w->pkname + l, NAME_MAX_LEN - l, "+%d", w->pkdocs - 1);
	}
	int rc = put_window(w, w->pkname, w->pk, w->npk);
	w->npk = w->pkdocs = 0;
	return rc;
}

/* --pack: a document's tokens appended to the windows being filled */
static int pack_doc(win_writer *w, const char *prefix, int64_t offset, const int32_t *ids, const int32_t *pos,
                    const int32_t *len, long nt)
{
	if (!win_in_split(&w->o, prefix)) { w->n_other_split++; return 0; }
	if (!nt) return 0;
	int rc;
	/* the separator after the previous document; where it would fill the
	 * window, the window's own end token separates them instead */
	if (w->npk && w->end >= 0) {
		if (w->npk >= w->per - 1) { if ((rc = pack_flush(w))) return rc; }
		else w->pk[w->npk++] = w->end;
	}
	for (long a = 0; a < nt;) {
		if (w->npk == w->per && (rc = pack_flush(w))) return rc;
		long b = a + (w->per - w->npk) < nt ? a + (w->per - w->npk) : nt;
		if (!w->npk)          /* a window starts with (this piece of) this document */
			make_name(w->pkname, NAME_MAX_LEN, prefix, offset + pos[a] + 1, offset + pos[b - 1] + len[b - 1]);
		if (!w->npk || a == 0) w->pkdocs++;
		memcpy(w->pk + w->npk, ids + a, (b - a) * sizeof *ids);
		w->npk += (int)(b - a);
		a = b;
	}
	return 0;
}

int win_finish(win_writer *w)
{
	return w->o.pack ? pack_flush(w) : 0;
}

int win_chunk(win_writer *w, const char *prefix, int64_t offset, const char *bytes, long nbytes,
              const int32_t *ids, const int32_t *pos, const int32_t *len, long nt)
{
	int per = w->per;
	if (w->o.pack) return pack_doc(w, prefix, offset, ids, pos, len, nt);
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
		int rc = put_window(w, w->name, ids + a, b - a);
		if (rc) return rc;
	}
	return 0;
}
