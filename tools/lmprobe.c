/* lmprobe -- masked predictions of an ensemble: for each token window, the
 * same seeded positions are masked for every model, and each model's
 * softmax at those positions is appended to the record.
 *
 * Windows go through a model in groups of GROUP_ROWS / T consecutive
 * windows of the stream (one forward pass, one thread, each product one
 * BLAS call, so the weights are packed once per group, not once per
 * window); the groups of a batch spread over the threads.  A group is the
 * same windows whatever -b and -t, so the output bits are too. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/bert.h"
#include "base/cli.h"
#include "model/evalmask.h"
#include "base/par.h"
#include "io/tnsout.h"
#include "model/winread.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: lmprobe [options] MODEL.tns... [-i WINDOWS.tns] > PROBS.tns\n"
"       seqtok --split eval x.fa | lmprobe m*.tns | disagree\n"
"Masks the same positions of every token window for every model and appends\n"
"each model's predictive distribution at those positions to the record:\n"
"  mask_pos i32[P], labels i32[P] (the true tokens), probs f32[M,P,V]\n"
"(model order as given).  The input tensors pass through.\n"
"\n"
"Input:\n"
"  -i, --input FILE      token windows (seqtok output; default stdin)\n"
"  -m, --model FILE      a model; may repeat; models may also be positional\n"
"Masking (the paper's protocol: all chosen positions become <MASK> at once):\n"
"      --mask-prob X     probability a non-special position is masked (0.10)\n"
"      --mask-seed N     mask seed (default 1); the mask is a function of the\n"
"                        seed, the record name and the position only\n"
"      --mask-each       mask every position, one at a time (the exact\n"
"                        pseudo-likelihood; one forward pass per position)\n"
"      --mask-positions  mask the positions of the input's 'mask_pos' tensor\n"
"Output:\n"
"      --half            probs as f16\n"
"      --top K           sparse: top_ids i32[M,P,K], top_probs f32[M,P,K] and\n"
"                        top_rest f32[M,P] (the mass outside the top K)\n"
"      --emit WHAT       also hidden:L (hidden states after layer L, 0 = the\n"
"                        embedding layer) or embeddings (= hidden:0), one\n"
"                        tensor per model: hidden.L.m<i> f32[T,d]; may repeat\n"
"      --shard K/N       only shard K of N (1 <= K <= N): blocks of 1024/T\n"
"                        windows dealt out in turn; tnsview --cat merges the N\n"
"                        outputs into the unsharded output's records\n"
"  -z, --bgzf            BGZF-compress the output\n"
"  -o, --output FILE     output stream (default stdout)\n"
"  -b, --batch N         windows read per batch (default 32; raised to whole\n"
"                        groups of 1024/T windows, one group per thread)\n"
"      --precision P     fp32 (default) or bf16: matrix products with bfloat16\n"
"                        inputs and fp32 sums (oneDNN; AVX512-BF16 or AMX)\n"
"  -t, --threads N       threads (default 1); output identical for any N, -b\n"
"  -f, --force           binary output to a terminal\n"
"  -q, --quiet           no messages\n"
"  -v, --verbose         report speed\n"
"      --help            this help\n"
"      --version         version, with htslib and OpenBLAS versions\n"
"\n"
"Exit status: 0 success, 1 error, 2 usage.  See lmprobe(1).\n");
}

enum { O_SEED = 0x2000, O_PROB, O_EACH, O_GIVEN, O_HALF, O_TOP, O_EMIT, O_SHARD, O_PREC };
enum { MODE_SAMPLE, MODE_EACH, MODE_GIVEN };
#define GROUP_ROWS 1024           /* rows of the windows in one forward pass */

typedef struct {
	int M, V, T, d_max;
	bert_model *m;
	int mode, half, topk;
	int *emit;                    /* layers to emit, nemit */
	int nemit;
	double q;
	uint64_t seed;
	int nthreads;
	bert_acts **acts;             /* [thread * M + model] */
	int each_cap;                 /* copies per forward pass in --mask-each */
	winread *w;
	/* per record of the batch */
	int32_t **pos;                /* mask positions */
	int *P;
	float **probs;                /* [M, P, V] */
	float **hid;                  /* [nemit, M, T, d] (per model its own d) */
	size_t *hid_off, hid_per;     /* model k's offset in one emitted layer; its size */
	int32_t **in;                 /* scratch input per thread [per_pass * T] */
	int group;                    /* windows per forward pass (not --mask-each) */
	int *rows;                    /* scratch rows per thread [rows_cap] (thread * rows_cap) */
	int rows_cap;
} probe;

static void die_record(const probe *p, int b, const char *what)
{
	die_file(p->w->path, "record %s: %s", p->w->name[b], what);
}

/* the positions of record b: sampled, every eligible, or given */
static void choose(probe *p, int b)
{
	const int32_t *tok = p->w->tok + (size_t)b * p->T;
	int T = p->T, P = 0;
	p->pos[b] = xrealloc(p->pos[b], (size_t)T * sizeof **p->pos);
	if (p->mode == MODE_SAMPLE) P = evalmask_select(&p->w->vocab, p->seed, p->w->name[b], tok, T, p->q, p->pos[b]);
	else if (p->mode == MODE_EACH) P = evalmask_select(&p->w->vocab, p->seed, p->w->name[b], tok, T, 1.0, p->pos[b]);
	else {
		const tns_tensor *t = tns_get(&p->w->rec[b], "mask_pos");
		if (!t || t->dtype != TNS_I32 || t->ndim != 1) die_record(p, b, "no i32 'mask_pos' tensor (--mask-positions)");
		if (t->dim[0] > T) die_record(p, b, "more mask positions than tokens");
		const int32_t *s = t->data;
		for (int i = 0; i < t->dim[0]; i++) {
			if (s[i] < 0 || s[i] >= T || (i && s[i] <= s[i - 1])) die_record(p, b, "mask_pos must be ascending positions inside the window");
			p->pos[b][P++] = s[i];
		}
	}
	p->P[b] = P;
}

/* the first model of m[0..k] with model k's shape (the sizes of its
 * activations) */
static int same_shape(const bert_model *m, int k)
{
	for (int j = 0;; j++) {
		const bert_config *a = &m[j].c, *b = &m[k].c;
		if (a->vocab_size == b->vocab_size && a->hidden == b->hidden && a->layers == b->layers &&
		    a->heads == b->heads && a->ffn == b->ffn)
			return j;
	}
}

/* --mask-each: one copy of record b's window per position, each with that
 * one position masked, in passes of each_cap copies */
static void run_each(probe *p, int th, int b)
{
	const int32_t *tok = p->w->tok + (size_t)b * p->T;
	int T = p->T, V = p->V, P = p->P[b];
	const int32_t *pos = p->pos[b];
	int32_t *in = p->in[th];
	int *rows = p->rows + (size_t)th * p->rows_cap;
	for (int k = 0; k < p->M; k++) {
		bert_model *m = &p->m[k];
		bert_acts *a = p->acts[th * p->M + k];
		float *out = p->probs[b] + (size_t)k * P * V;
		for (int i0 = 0; i0 < P; i0 += p->each_cap) {
			int n = P - i0 < p->each_cap ? P - i0 : p->each_cap;
			for (int j = 0; j < n; j++) {
				evalmask_apply(&p->w->vocab, tok, T, pos + i0 + j, 1, in + (size_t)j * T);
				rows[j] = j * T + pos[i0 + j];
			}
			bert_forward_rows(m, a, in, n, T, rows, n);
			bert_head(m, a, rows, n, out + (size_t)i0 * V, 1);
		}
	}
}

/* records [b0, b1) of the batch (one group) in one forward pass per model:
 * their windows side by side, the last layer only at their masked rows
 * (unless its hidden states are to be emitted), the head at those rows */
static void run_group(probe *p, int th, int b0, int b1)
{
	int T = p->T, V = p->V, M = p->M, nb = b1 - b0, nr = 0;
	int32_t *in = p->in[th];
	int *rows = p->rows + (size_t)th * p->rows_cap;
	for (int b = b0; b < b1; b++) {
		const int32_t *tok = p->w->tok + (size_t)b * T;
		evalmask_apply(&p->w->vocab, tok, T, p->pos[b], p->P[b], in + (size_t)(b - b0) * T);
		for (int i = 0; i < p->P[b]; i++) rows[nr++] = (b - b0) * T + p->pos[b][i];
	}
	for (int k = 0; k < M; k++) {
		bert_model *m = &p->m[k];
		bert_acts *a = p->acts[th * M + k];
		int last = 0, d = m->c.hidden;
		for (int e = 0; e < p->nemit; e++) if (p->emit[e] == m->c.layers) last = 1;
		if (last) bert_forward(m, a, in, nb, T, NULL);
		else if (nr) bert_forward_rows(m, a, in, nb, T, rows, nr);
		else if (p->nemit) bert_forward(m, a, in, nb, T, NULL);
		const float *pr = nr ? bert_head(m, a, rows, nr, NULL, 1) : NULL;
		for (int b = b0; b < b1; b++) {
			size_t n = (size_t)p->P[b] * V;
			if (n) {
				memcpy(p->probs[b] + k * n, pr, n * sizeof(float));
				pr += n;
			}
			for (int e = 0; e < p->nemit; e++)
				memcpy(p->hid[b] + e * p->hid_per + p->hid_off[k], bert_hidden(a, p->emit[e]) + (size_t)(b - b0) * T * d,
				       (size_t)T * d * sizeof(float));
		}
	}
}

typedef struct { probe *p; int n; } batch_ctx;

/* the groups (or, with --mask-each, the records) of the batch, dealt
 * round-robin to the threads */
static void run_thread(void *ctx, int th)
{
	batch_ctx *c = ctx;
	probe *p = c->p;
	if (p->mode == MODE_EACH) {
		for (int b = th; b < c->n; b += p->nthreads) run_each(p, th, b);
		return;
	}
	for (int b = th * p->group; b < c->n; b += p->nthreads * p->group)
		run_group(p, th, b, b + p->group < c->n ? b + p->group : c->n);
}

/* the top K of each distribution: ids by descending probability (ties by id) */
static void top_k(const float *pr, int V, int K, int32_t *ids, float *val, float *rest)
{
	int n = 0;
	double mass = 0;
	for (int v = 0; v < V; v++) {
		float x = pr[v];
		if (n == K && !(x > val[K - 1])) continue;
		int j = n < K ? n++ : K - 1;
		while (j > 0 && x > val[j - 1]) { val[j] = val[j - 1]; ids[j] = ids[j - 1]; j--; }
		val[j] = x;
		ids[j] = v;
	}
	for (int i = 0; i < n; i++) mass += val[i];
	*rest = (float)(1.0 - mass < 0 ? 0 : 1.0 - mass);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"input", required_argument, 0, 'i'}, {"model", required_argument, 0, 'm'},
		{"mask-prob", required_argument, 0, O_PROB}, {"mask-seed", required_argument, 0, O_SEED},
		{"mask-each", no_argument, 0, O_EACH}, {"mask-positions", no_argument, 0, O_GIVEN},
		{"half", no_argument, 0, O_HALF}, {"top", required_argument, 0, O_TOP},
		{"emit", required_argument, 0, O_EMIT}, {"bgzf", no_argument, 0, 'z'},
		{"shard", required_argument, 0, O_SHARD},
		{"precision", required_argument, 0, O_PREC},
		{"batch", required_argument, 0, 'b'},
		CLI_LONGOPTS
	};
	cli_opts co;
	probe p;
	const char *input = "-";
	char **models;
	int nmodels = 0, c, B = 32, bgzf = 0, shard_k = 0, shard_n = 0, bf16 = 0;
	memset(&p, 0, sizeof p);
	p.q = 0.10;
	p.seed = 1;
	par_blas_prefer_avx512(argv);     /* may re-exec with OpenBLAS's AVX-512 kernels */
	cli_init(&co, argc, argv);
	models = xmalloc((argc + 1) * sizeof *models);
	p.emit = xmalloc((argc + 1) * sizeof *p.emit);
	while ((c = getopt_long(argc, argv, "-" CLI_SHORTOPTS "i:m:b:z", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': input = optarg; break;
		case 1: case 'm': models[nmodels++] = optarg; break;
		case O_PROB: p.q = cli_double("--mask-prob", optarg, 0, 1); break;
		case O_SEED: p.seed = (uint64_t)cli_long("--mask-seed", optarg, 0, 1L << 62); break;
		case O_EACH: p.mode = MODE_EACH; break;
		case O_GIVEN: p.mode = MODE_GIVEN; break;
		case O_HALF: p.half = 1; break;
		case O_TOP: p.topk = (int)cli_long("--top", optarg, 1, 1 << 20); break;
		case O_EMIT:
			if (!strcmp(optarg, "embeddings")) p.emit[p.nemit++] = 0;
			else if (!strncmp(optarg, "hidden:", 7)) p.emit[p.nemit++] = (int)cli_long("--emit hidden:", optarg + 7, 0, 1000);
			else die_usage("--emit: hidden:LAYER or embeddings, not '%s'", optarg);
			break;
		case O_SHARD: {
			char tail;
			if (sscanf(optarg, "%d/%d%c", &shard_k, &shard_n, &tail) != 2 || shard_n < 1 || shard_n > 1000000 ||
			    shard_k < 1 || shard_k > shard_n)
				die_usage("--shard: K/N with 1 <= K <= N (e.g. 2/8), not '%s'", optarg);
			break;
		}
		case 'z': bgzf = 1; break;
		case O_PREC: bf16 = cli_precision(optarg); break;
		case 'b': B = (int)cli_long("-b", optarg, 1, 1 << 16); break;
		default: cli_common_opt(&co, c, optarg, usage);
		}
	}
	for (int i = optind; i < argc; i++) models[nmodels++] = argv[i];
	if (nmodels == 0) { usage(stderr); exit(EXIT_USAGE); }
	if (p.half && p.topk) die_usage("--half and --top exclude each other");
	if (p.mode == MODE_EACH && p.nemit) die_usage("--emit needs one forward pass per window: not with --mask-each");
	if (strcmp(input, "-") == 0) cli_need_input(0, usage);
	cli_check_binary_out(&co);
	/* every model is read before the windows, so that a bad one is named
	 * as such even when the input is an empty pipe */
	winread_model *mi = xmalloc(nmodels * sizeof *mi);
	tns_header *mh = xcalloc(nmodels, sizeof *mh);
	winread_check_model_files(models, nmodels, mi);
	p.m = xcalloc(nmodels, sizeof *p.m);
	for (int k = 0; k < nmodels; k++) winread_read_model(models[k], &p.m[k], &mh[k], &mi[k]);

	winread w;
	winread_open(&w, input, -1, B);
	for (int k = 0; k < nmodels; k++) winread_check_model(&w, &mi[k]);
	free(mi);
	p.T = w.T;
	/* windows per forward pass: about GROUP_ROWS rows, fixed by T alone;
	 * the batch is a whole number of groups (and one per thread at least),
	 * so a group is always the same windows of the stream, whatever -b and
	 * -t are */
	p.group = p.mode == MODE_EACH ? 1 : GROUP_ROWS / p.T > 1 ? GROUP_ROWS / p.T : 1;
	if (B < p.group * co.threads) B = p.group * co.threads;
	B = (B + p.group - 1) / p.group * p.group;
	winread_grow(&w, B);
	/* a shard's blocks are whole groups, so its windows meet the same
	 * neighbours in a forward pass as in one unsharded run: the same bits */
	if (shard_n) winread_shard(&w, shard_k, shard_n, p.group);
	p.w = &w;
	p.M = nmodels;
	p.V = w.vocab.n;
	p.nthreads = co.threads;
	tns_header h;
	tns_header_copy(&h, tns_reader_header(w.r));
	for (int k = 0; k < nmodels; k++) {
		bert_set_single(&p.m[k]);            /* parallel over groups of windows instead */
		bert_set_precision(&p.m[k], bf16);
		for (int e = 0; e < p.nemit; e++)
			if (p.emit[e] > p.m[k].c.layers)
				die_usage("--emit hidden:%d: %s has %d layers", p.emit[e], models[k], p.m[k].c.layers);
		const char *mhash = tns_header_get(&mh[k], "model_hash");
		tns_header_add(&h, "@MO\tID:%d\tPA:%s\tH:%s\tAR:%dx%d", k, models[k], mhash ? mhash : "none",
		               p.m[k].c.layers, p.m[k].c.hidden);
		tns_header_free(&mh[k]);
	}
	free(mh);
	tns_header_set(&h, "probe_models", "%d", nmodels);
	tns_header_set(&h, "probe_vocab_size", "%d", p.V);
	tns_header_set(&h, "probe_mask_prob", "%g", p.mode == MODE_SAMPLE ? p.q : p.mode == MODE_EACH ? 1.0 : -1.0);
	tns_header_set(&h, "probe_mask_seed", "%" PRIu64, p.seed);
	tns_header_set(&h, "probe_mask_mode", "%s", p.mode == MODE_SAMPLE ? "sample" : p.mode == MODE_EACH ? "each" : "given");
	if (shard_n) {
		tns_header_set(&h, "shard", "%d/%d", shard_k, shard_n);
		tns_header_set(&h, "shard_block", "%d", p.group);
	}
	char extra[64];
	snprintf(extra, sizeof extra, "\tSD:%" PRIu64, p.seed);
	tns_header_add_pg(&h, "lmprobe", SEQLM_VERSION, argc, argv, extra);
	tns_writer *out = cli_tns_create(&co, co.output, &h, bgzf ? TNS_W_BGZF : 0);
	tns_writer_threads(out, co.threads);
	tns_header_free(&h);

	p.each_cap = p.mode == MODE_EACH ? 16 : 1;
	int per_pass = p.mode == MODE_EACH ? p.each_cap : p.group;
	/* a thread runs the models one after another, so models of the same
	 * shape share its activations */
	p.acts = xcalloc((size_t)p.nthreads * nmodels, sizeof *p.acts);
	for (int th = 0; th < p.nthreads; th++)
		for (int k = 0; k < nmodels; k++) {
			int j = same_shape(p.m, k);
			p.acts[th * nmodels + k] = j < k ? p.acts[th * nmodels + j] : bert_acts_new(&p.m[k], per_pass, p.T, 0);
		}
	p.in = xcalloc(p.nthreads, sizeof *p.in);
	for (int th = 0; th < p.nthreads; th++) p.in[th] = xmalloc((size_t)per_pass * p.T * sizeof(int32_t));
	p.rows_cap = per_pass * p.T;
	p.rows = xmalloc((size_t)p.nthreads * p.rows_cap * sizeof *p.rows);
	p.pos = xcalloc(B, sizeof *p.pos);
	p.P = xcalloc(B, sizeof *p.P);
	p.probs = xcalloc(B, sizeof *p.probs);
	p.hid = xcalloc(B, sizeof *p.hid);
	p.hid_off = xmalloc((size_t)nmodels * sizeof *p.hid_off);
	for (int k = 0; k < nmodels; k++) {
		p.hid_off[k] = p.hid_per;
		p.hid_per += (size_t)p.T * p.m[k].c.hidden;
	}

	long nrec = 0, ntok = 0;
	double t0 = cli_now();
	int n;
	while ((n = winread_next(&w)) > 0) {
		for (int b = 0; b < n; b++) {
			choose(&p, b);
			p.probs[b] = xrealloc(p.probs[b], ((size_t)nmodels * p.P[b] * p.V + 1) * sizeof(float));
			if (p.nemit) p.hid[b] = xrealloc(p.hid[b], (size_t)p.nemit * p.hid_per * sizeof(float));
		}
		batch_ctx bc = {&p, n};
		par_for(p.nthreads, p.nthreads, run_thread, &bc);
		for (int b = 0; b < n; b++) {
			int P = p.P[b], M = nmodels, V = p.V;
			tns_tensor *t = xmalloc((5 + (size_t)p.nemit * M) * sizeof *t);
			char (*names)[48] = xmalloc(((size_t)p.nemit * M + 1) * sizeof *names);
			int nt = 0;
			int32_t *labels = xmalloc(((size_t)P + 1) * sizeof *labels);
			const int32_t *tok = w.tok + (size_t)b * p.T;
			for (int i = 0; i < P; i++) labels[i] = tok[p.pos[b][i]];
			if (p.mode != MODE_GIVEN) t[nt++] = tns_tensor_1d("mask_pos", TNS_I32, P, p.pos[b]);
			t[nt++] = tns_tensor_1d("labels", TNS_I32, P, labels);
			void *extra1 = NULL, *extra2 = NULL, *extra3 = NULL;
			const float *pr = p.probs[b];
			for (size_t i = 0; i < (size_t)M * P * V; i++)   /* a NaN here is a broken model */
				if (!isfinite(pr[i])) die_file(models[i / ((size_t)P * V)], "non-finite probabilities (a corrupt or diverged model)");
			if (p.topk) {
				int K = p.topk < V ? p.topk : V;
				int32_t *ids = xmalloc(((size_t)M * P * K + 1) * sizeof *ids);
				float *val = xmalloc(((size_t)M * P * K + 1) * sizeof *val), *rest = xmalloc(((size_t)M * P + 1) * sizeof *rest);
				for (size_t r = 0; r < (size_t)M * P; r++) top_k(pr + r * V, V, K, ids + r * K, val + r * K, rest + r);
				t[nt++] = tns_tensor_make("top_ids", TNS_I32, 3, (int64_t[]){M, P, K}, ids);
				t[nt++] = tns_tensor_make("top_probs", TNS_F32, 3, (int64_t[]){M, P, K}, val);
				t[nt++] = tns_tensor_make("top_rest", TNS_F32, 2, (int64_t[]){M, P}, rest);
				extra1 = ids, extra2 = val, extra3 = rest;
			} else if (p.half) {
				uint16_t *hh = xmalloc(((size_t)M * P * V + 1) * sizeof *hh);
				for (size_t i = 0; i < (size_t)M * P * V; i++) hh[i] = tns_f32_to_f16(pr[i]);
				t[nt++] = tns_tensor_make("probs", TNS_F16, 3, (int64_t[]){M, P, V}, hh);
				extra1 = hh;
			} else {
				t[nt++] = tns_tensor_make("probs", TNS_F32, 3, (int64_t[]){M, P, V}, pr);
			}
			for (int e = 0; e < p.nemit; e++)
				for (int k = 0; k < M; k++) {
					snprintf(names[e * M + k], sizeof *names, "hidden.%d.m%d", p.emit[e], k);
					t[nt++] = tns_tensor_make(names[e * M + k], TNS_F32, 2, (int64_t[]){p.T, p.m[k].c.hidden},
					                          p.hid[b] + e * p.hid_per + p.hid_off[k]);
				}
			if (tns_write_record(out, &w.rec[b], nt, t) < 0) cli_tns_close(out);
			free(labels);
			free(t);
			free(names);
			free(extra1);
			free(extra2);
			free(extra3);
			nrec++;
			ntok += P;
		}
	}
	if (cli_verbose > 0) {
		double dt = cli_now() - t0;
		info("%ld windows, %ld masked positions, %d models: %.0f window tokens/s", nrec, ntok, nmodels,
		     (double)nrec * p.T * nmodels / (dt > 0 ? dt : 1));
	}
	cli_tns_close(out);
	for (int th = 0; th < p.nthreads; th++) {
		for (int k = 0; k < nmodels; k++)
			if (same_shape(p.m, k) == k) bert_acts_free(p.acts[th * nmodels + k]);
		free(p.in[th]);
	}
	for (int b = 0; b < B; b++) { free(p.pos[b]); free(p.probs[b]); free(p.hid[b]); }
	for (int k = 0; k < nmodels; k++) bert_free(&p.m[k]);
	free(p.acts); free(p.in); free(p.rows); free(p.pos); free(p.P); free(p.probs); free(p.hid);
	free(p.m); free(p.emit); free(p.hid_off); free(models);
	winread_close(&w);
	cli_close_stdout();
	return 0;
}
