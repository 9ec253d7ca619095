/* fisher.c -- empirical Fisher diagonal and its group sums (see fisher.h). */
#include "model/fisher.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/util.h"
#include "base/par.h"

static const char *const est_names[] = {"batch", "window", "token"};

const char *fisher_estimator_name(fisher_estimator e)
{
	return e >= FISHER_BATCH && e <= FISHER_TOKEN ? est_names[e] : "?";
}

int fisher_estimator_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, est_names[i]) == 0) return i;
	return -1;
}

void fisher_init(fisher_acc *f, const bert_model *m, fisher_estimator e)
{
	memset(f, 0, sizeof *f);
	f->est = e;
	f->n = m->n;
	f->sum = xcalloc(m->n, sizeof *f->sum);
}

void fisher_free(fisher_acc *f)
{
	free(f->sum);
	free(f->lab1);
	memset(f, 0, sizeof *f);
}

double fisher_denominator(const fisher_acc *f)
{
	return f->est == FISHER_WINDOW ? (double)f->nwindows : (double)f->ntokens;
}

/* sum[i] += g[i]^2 over the whole buffer, split over threads (each entry is
 * independent, so the result does not depend on the split) */
typedef struct { double *sum; const float *g; size_t n; int parts; } sq_ctx;

static void sq_part(void *ctx, int i0, int i1)
{
	sq_ctx *c = ctx;
	size_t chunk = (c->n + c->parts - 1) / c->parts;
	for (int p = i0; p < i1; p++) {
		size_t a = (size_t)p * chunk, b = a + chunk < c->n ? a + chunk : c->n;
		double *s = c->sum;
		const float *g = c->g;
		for (size_t i = a; i < b; i++) s[i] += (double)g[i] * g[i];
	}
}

static void add_squares(fisher_acc *f, const bert_model *m)
{
	sq_ctx c = {f->sum, m->grads, f->n, 64};
	par_range(m->nthreads, c.parts, sq_part, &c);
}

int fisher_add_batch(fisher_acc *f, bert_model *m, bert_acts *a,
                     const int32_t *in, const int32_t *labels, int B, int T)
{
	bert_forward(m, a, in, B, T, NULL);
	float loss = bert_mlm_loss(m, a, labels);
	int total = bert_nmasked(a, 0, B);
	if (total == 0) return 0;
	if (!isfinite(loss)) return -1;
	f->ntokens += total;
	f->nbatches++;
	switch (f->est) {
	case FISHER_BATCH:
		bert_zero_grads(m);
		bert_backward(m, a, 0, B, 1.0f / total);
		add_squares(f, m);
		for (int b = 0; b < B; b++) f->nwindows += bert_nmasked(a, b, 1) > 0;
		break;
	case FISHER_WINDOW:
		for (int b = 0; b < B; b++) {
			int nb = bert_nmasked(a, b, 1);
			if (nb == 0) continue;
			bert_zero_grads(m);
			bert_backward(m, a, b, 1, 1.0f / nb);
			add_squares(f, m);
			f->nwindows++;
		}
		break;
	case FISHER_TOKEN:
		if (f->lab1_n < (size_t)B * T) {
			free(f->lab1);
			f->lab1 = xmalloc((size_t)B * T * sizeof *f->lab1);
			f->lab1_n = (size_t)B * T;
		}
		for (size_t i = 0; i < (size_t)B * T; i++) f->lab1[i] = -1;
		for (int b = 0; b < B; b++) {
			int nb = 0;
			for (int t = 0; t < T; t++) {
				size_t r = (size_t)b * T + t;
				if (labels[r] < 0) continue;
				/* the head again with this one label: the encoder's
				 * activations stay, only the row's projection is redone */
				f->lab1[r] = labels[r];
				bert_mlm_loss(m, a, f->lab1);
				f->lab1[r] = -1;
				bert_zero_grads(m);
				bert_backward(m, a, b, 1, 1.0f);
				add_squares(f, m);
				nb++;
			}
			f->nwindows += nb > 0;
		}
		break;
	}
	return 0;
}

/* The groups are by the parameter table's names (bert_table.c), which
 * every family's checkpoint names map to (hfnames.c): bert.embeddings.*,
 * bert.encoder.layer.i.*, and the head: cls.* and a final LayerNorm
 * (bert.encoder.last_layer_ln: ESM's emb_layer_norm_after, GENA-LM's
 * last_layer_ln), which sits between the last layer and the head as the
 * head's own LayerNorm does.  Per parameter, the table's names too: the
 * same for every family, and DNABERT-2's fused Wqkv is three tensors. */
const char *fisher_group_of(const char *name, fisher_by by, char *buf, size_t len)
{
	int layer;
	const char *rest;
	if (by == FISHER_BY_PARAM) { snprintf(buf, len, "%s", name); return buf; }
	if (strncmp(name, "bert.embeddings.", 16) == 0) { snprintf(buf, len, "embeddings"); return buf; }
	if (sscanf(name, "bert.encoder.layer.%d.", &layer) == 1 && (rest = strchr(name + 19, '.'))) {
		rest++;
		if (by == FISHER_BY_GROUP) snprintf(buf, len, "encoder.%d", layer);
		else {   /* pre-LN layers' pre_attention_ln / post_attention_ln are LayerNorms too */
			const char *part = strstr(rest, "LayerNorm") || strstr(rest, "_ln.") ? "layernorm" :
			                   strncmp(rest, "attention.", 10) == 0 ? "attention" : "ffn";
			snprintf(buf, len, "encoder.%d.%s", layer, part);
		}
		return buf;
	}
	snprintf(buf, len, "head");
	return buf;
}

int fisher_groups(const fisher_acc *f, const bert_model *m, fisher_by by, fisher_group **out)
{
	fisher_group *g = xcalloc(m->np, sizeof *g);
	int ng = 0;
	double den = fisher_denominator(f);
	char name[96];
	for (int i = 0; i < m->np; i++) {
		const bert_param *p = &m->p[i];
		fisher_group_of(p->name, by, name, sizeof name);
		int k = 0;
		while (k < ng && strcmp(g[k].name, name) != 0) k++;
		if (k == ng) snprintf(g[ng++].name, sizeof g->name, "%s", name);
		double s = 0;
		for (size_t j = 0; j < p->n; j++) s += f->sum[p->off + j];
		g[k].fisher += den > 0 ? s / den : 0;
		g[k].nparams += p->n;
	}
	*out = g;
	return ng;
}
