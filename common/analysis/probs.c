/* probs.c -- lmprobe output records (see probs.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/util.h"
#include "analysis/probs.h"

/* room for the name of model m */
static void grow_names(probs_stream *s, int m)
{
	if (m < s->nname) return;
	s->name = xrealloc(s->name, (m + 1) * sizeof *s->name);
	memset(s->name + s->nname, 0, (m + 1 - s->nname) * sizeof *s->name);
	s->nname = m + 1;
}

int probs_init(probs_stream *s, const tns_header *h, const char *path, char *err, int errlen)
{
	int64_t v;
	memset(s, 0, sizeof *s);
	s->path = path;
	if (tns_header_get_int(h, "probe_models", &v) == 0) {
		if (v < 1 || v > 4096) { snprintf(err, errlen, "@KV probe_models %lld is out of range", (long long)v); return -1; }
		s->M = (int)v;
	}
	if (tns_header_get_int(h, "probe_vocab_size", &v) == 0) {
		if (v < 2 || v > (1 << 24)) { snprintf(err, errlen, "@KV probe_vocab_size %lld is out of range", (long long)v); return -1; }
		s->V = (int)v;
	}
	/* the @MO lines lmprobe writes, one per model; a later line for the
	 * same ID replaces an earlier one (lmprobe's come after the input's) */
	for (int i = 0; i < h->n; i++) {
		char id[32], pa[4096];
		if (strncmp(h->line[i], "@MO\t", 4) != 0 || !tns_line_field(h->line[i], "ID", id, sizeof id) ||
		    !tns_line_field(h->line[i], "PA", pa, sizeof pa))
			continue;
		char *end;
		long m = strtol(id, &end, 10);
		if (*end || m < 0 || m >= 4096) continue;
		grow_names(s, (int)m);
		free(s->name[m]);
		s->name[m] = xstrdup(pa);
	}
	return 0;
}

const char *probs_model(probs_stream *s, int m)
{
	grow_names(s, m);
	if (!s->name[m]) {
		char id[32];
		snprintf(id, sizeof id, "%d", m);
		s->name[m] = xstrdup(id);
	}
	return s->name[m];
}

void probs_free(probs_stream *s)
{
	free(s->lut);
	s->lut = NULL;
	for (int i = 0; i < s->nname; i++) free(s->name[i]);
	free(s->name);
	s->name = NULL;
	s->nname = 0;
}

const char *probs_kind_name(int kind)
{
	return kind == PROBS_F32 ? "probs f32" : kind == PROBS_F16 ? "probs f16" : kind == PROBS_TOPK ? "top-K" : "none";
}

/* one of the stream's dimensions: set by the first record if unknown */
static int same_dim(int *have, int64_t got, const char *what, const tns_record *rec, char *err, int errlen)
{
	if (got < 1 || got > (1 << 24)) { snprintf(err, errlen, "record %s: %s %lld is out of range", rec->name, what, (long long)got); return -1; }
	if (!*have) *have = (int)got;
	else if (*have != got) {
		snprintf(err, errlen, "record %s: %s is %lld, but %d earlier in the stream", rec->name, what, (long long)got, *have);
		return -1;
	}
	return 0;
}

int probs_get(probs_stream *s, const tns_record *rec, probs_rec *r, char *err, int errlen)
{
	memset(r, 0, sizeof *r);
	r->name = rec->name;
	const tns_tensor *mp = tns_get(rec, "mask_pos"), *lb = tns_get(rec, "labels");
	const tns_tensor *pr = tns_get(rec, "probs"), *ti = tns_get(rec, "top_ids");
	if (!mp || !lb) {
		snprintf(err, errlen, "record %s has no %s: not lmprobe output?", rec->name, !mp ? "mask_pos" : "labels");
		return -1;
	}
	if (mp->dtype != TNS_I32 || mp->ndim != 1 || lb->dtype != TNS_I32 || lb->ndim != 1 || lb->dim[0] != mp->dim[0]) {
		snprintf(err, errlen, "record %s: mask_pos and labels must be i32[P]", rec->name);
		return -1;
	}
	r->P = (int)mp->dim[0];
	r->mask_pos = mp->data;
	r->labels = lb->data;
	if (!pr && !ti) {
		if (r->P == 0) return 0;
		snprintf(err, errlen, "record %s has no probs (nor top_ids/top_probs): not lmprobe output?", rec->name);
		return -1;
	}
	int kind;
	const tns_tensor *t = pr;
	if (pr) {
		if ((pr->dtype != TNS_F32 && pr->dtype != TNS_F16) || pr->ndim != 3) {
			snprintf(err, errlen, "record %s: probs must be f32 or f16 [M,P,V]", rec->name);
			return -1;
		}
		kind = pr->dtype == TNS_F32 ? PROBS_F32 : PROBS_F16;
	} else {
		const tns_tensor *tp = tns_get(rec, "top_probs"), *tr = tns_get(rec, "top_rest");
		if (ti->dtype != TNS_I32 || ti->ndim != 3 || !tp || tp->dtype != TNS_F32 || tp->ndim != 3 ||
		    memcmp(tp->dim, ti->dim, sizeof(int64_t) * 3) || !tr || tr->dtype != TNS_F32 || tr->ndim != 2 ||
		    tr->dim[0] != ti->dim[0] || tr->dim[1] != ti->dim[1]) {
			snprintf(err, errlen, "record %s: need top_ids i32[M,P,K], top_probs f32[M,P,K], top_rest f32[M,P]", rec->name);
			return -1;
		}
		kind = PROBS_TOPK;
		r->top_ids = ti->data; r->top_probs = tp->data; r->top_rest = tr->data;
		t = ti;
	}
	if (t->dim[1] != r->P) {
		snprintf(err, errlen, "record %s: %s has %lld positions, mask_pos %d", rec->name, pr ? "probs" : "top_ids",
		         (long long)t->dim[1], r->P);
		return -1;
	}
	if (r->P == 0) return 0;
	if (!s->kind) s->kind = kind;
	else if (s->kind != kind) {
		snprintf(err, errlen, "record %s holds %s, earlier records %s", rec->name, probs_kind_name(kind), probs_kind_name(s->kind));
		return -1;
	}
	if (same_dim(&s->M, t->dim[0], "the number of models", rec, err, errlen) < 0) return -1;
	if (kind == PROBS_TOPK) {
		if (same_dim(&s->K, t->dim[2], "K (top-K width)", rec, err, errlen) < 0) return -1;
	} else if (same_dim(&s->V, t->dim[2], "the vocabulary size V", rec, err, errlen) < 0) return -1;
	if (kind == PROBS_F32) r->f32 = pr->data;
	if (kind == PROBS_F16) {
		r->f16 = pr->data;
		if (!s->lut) {
			s->lut = xmalloc(sizeof(float) * 65536);
			for (int i = 0; i < 65536; i++) s->lut[i] = tns_f16_to_f32((uint16_t)i);
		}
	}
	for (int j = 0; j < r->P; j++)
		if (r->labels[j] < 0 || (s->V && r->labels[j] >= s->V)) {
			snprintf(err, errlen, "record %s: label %d at position %d is outside the vocabulary", rec->name, r->labels[j], r->mask_pos[j]);
			return -1;
		}
	return 0;
}

const float *probs_row(const probs_stream *s, const probs_rec *r, int m, int j, float *buf)
{
	size_t off = ((size_t)m * r->P + j) * s->V;
	if (r->f32) return r->f32 + off;
	const uint16_t *h = r->f16 + off;
	for (int i = 0; i < s->V; i++) buf[i] = s->lut[h[i]];
	return buf;
}
