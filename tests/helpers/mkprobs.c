/* mkprobs -- writes synthetic lmprobe output or model files, for the
 * benchmarks and large tests of entropy and disagree:
 *   mkprobs [-M MODELS] [-V VOCAB] [-P POSITIONS] [-n RECORDS] [-s SEED] [-T LO,HI] [-h] [-N] [-o FILE]
 *   mkprobs -E -V VOCAB -d DIM [-s SEED] [-o FILE]
 * Probe records hold mask_pos, labels and probs f32 (f16 with -h) [M,P,V]:
 * softmaxes of logits that share a per-position part across models and
 * have a per-position temperature (uniform in LO..HI, default 0.2..3.2),
 * so some are peaked and some flat (-T 0.5,0.5 gives flat rows like a
 * 6-mer DNA model's, about 11.8 of 12 bits); the header names the models
 * m1.tns... in @MO lines (-N: it does not).  -E
 * writes a model file with only the word embeddings (record params). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/cli.h"
#include "base/rng.h"
#include "io/tns.h"
#include "io/tnsout.h"

static float gauss(rng_t *r)   /* sum of 4 uniforms: cheap, bell-shaped */
{
	return (float)((rng_uniform(r) + rng_uniform(r) + rng_uniform(r) + rng_uniform(r) - 2) * 1.7320508);
}

int main(int argc, char **argv)
{
	cli_opts o;
	long M = 5, V = 4096, P = 20, n = 200, seed = 1, d = 768;
	int c, half = 0, emb = 0, nomo = 0;
	double tlo = 0.2, thi = 3.2;
	cli_init(&o, argc, argv);
	while ((c = getopt(argc, argv, "M:V:P:n:s:d:hNEo:fT:")) != -1) {
		if (c == 'M') M = atol(optarg);
		else if (c == 'V') V = atol(optarg);
		else if (c == 'P') P = atol(optarg);
		else if (c == 'n') n = atol(optarg);
		else if (c == 's') seed = atol(optarg);
		else if (c == 'd') d = atol(optarg);
		else if (c == 'h') half = 1;
		else if (c == 'E') emb = 1;
		else if (c == 'N') nomo = 1;
		else if (c == 'o') o.output = optarg;
		else if (c == 'f') o.force = 1;
		else if (c == 'T') { if (sscanf(optarg, "%lf,%lf", &tlo, &thi) != 2) return 2; }
		else return 2;
	}
	rng_t r;
	rng_seed(&r, (uint64_t)seed, 0);
	tns_header h;
	tns_header_init(&h);
	if (emb) {
		tns_header_set(&h, "model_type", "bert");
		tns_header_set(&h, "vocab_size", "%ld", V);
		tns_header_set(&h, "hidden_size", "%ld", d);
		tns_header_set(&h, "seed", "%ld", seed);
		tns_header_add_pg(&h, "mkprobs", SEQLM_VERSION, argc, argv, NULL);
		tns_writer *w = cli_tns_create(&o, o.output, &h, 0);
		float *E = xaligned(sizeof(float) * V * d);
		/* a shared structure plus a per-seed part: models that half agree */
		rng_t s;
		rng_seed(&s, 12345, 0);
		for (long i = 0; i < V * d; i++) E[i] = gauss(&s) + gauss(&r);
		int64_t dim[2] = {V, d};
		tns_tensor t = tns_tensor_make("bert.embeddings.word_embeddings.weight", TNS_F32, 2, dim, E);
		if (tns_write(w, "params", 1, &t) < 0) cli_tns_close(w);
		cli_tns_close(w);
		free(E);
		tns_header_free(&h);
		return 0;
	}
	tns_header_set(&h, "window", "%ld", 4 * P);
	for (long m = 0; m < M && !nomo; m++) tns_header_add(&h, "@MO\tID:%ld\tPA:m%ld.tns\tH:%016lx\tAR:6x256", m, m + 1, m + 1);
	tns_header_set(&h, "probe_models", "%ld", M);
	tns_header_set(&h, "probe_vocab_size", "%ld", V);
	tns_header_set(&h, "probe_mask_prob", "0.1");
	tns_header_set(&h, "probe_mask_seed", "1");
	tns_header_add_pg(&h, "mkprobs", SEQLM_VERSION, argc, argv, NULL);
	tns_writer *w = cli_tns_create(&o, o.output, &h, 0);
	float *p = xaligned(sizeof(float) * M * P * V), *shared = xmalloc(sizeof(float) * V);
	uint16_t *p16 = half ? xaligned(sizeof(uint16_t) * M * P * V) : NULL;
	int32_t *pos = xmalloc(sizeof(int32_t) * P), *lab = xmalloc(sizeof(int32_t) * P);
	for (long rec = 0; rec < n; rec++) {
		for (long j = 0; j < P; j++) {
			pos[j] = (int32_t)(1 + 4 * j);
			lab[j] = (int32_t)(5 + rng_below(rng_next(&r), (uint32_t)(V - 5)));
			float temp = (float)(tlo + (thi - tlo) * rng_uniform(&r));
			for (long i = 0; i < V; i++) shared[i] = gauss(&r);
			for (long m = 0; m < M; m++) {
				float *q = p + (m * P + j) * V, mx = -1e30f;
				double s = 0;
				for (long i = 0; i < V; i++) {
					q[i] = temp * (shared[i] + 0.5f * gauss(&r)) + (i == lab[j] ? 2.0f : 0);
					if (q[i] > mx) mx = q[i];
				}
				for (long i = 0; i < V; i++) { q[i] = expf(q[i] - mx); s += q[i]; }
				for (long i = 0; i < V; i++) q[i] = (float)(q[i] / s);
			}
		}
		int64_t dim[3] = {M, P, V};
		tns_tensor t[3];
		t[0] = tns_tensor_1d("mask_pos", TNS_I32, P, pos);
		t[1] = tns_tensor_1d("labels", TNS_I32, P, lab);
		if (half) {
			for (long i = 0; i < M * P * V; i++) p16[i] = tns_f32_to_f16(p[i]);
			t[2] = tns_tensor_make("probs", TNS_F16, 3, dim, p16);
		} else t[2] = tns_tensor_make("probs", TNS_F32, 3, dim, p);
		char name[64];
		snprintf(name, sizeof name, "synth:%ld-%ld", rec * 1000 + 1, rec * 1000 + 4 * P);
		if (tns_write(w, name, 3, t) < 0) cli_tns_close(w);
	}
	cli_tns_close(w);
	free(p); free(p16); free(shared); free(pos); free(lab);
	tns_header_free(&h);
	return 0;
}
