/* probs.h -- reading lmprobe output: the masked positions of each record
 * and the models' distributions there, as full f32 or f16 `probs` [M,P,V]
 * or sparse top-K (`top_ids`, `top_probs`, `top_rest`).  Checks what every
 * analysis relies on (shapes, one V for the whole stream, labels present)
 * so that entropy and disagree report bad input the same way. */
#ifndef SEQLM_PROBS_H
#define SEQLM_PROBS_H

#include <stdint.h>
#include "io/tns.h"

enum { PROBS_F32 = 1, PROBS_F16 = 2, PROBS_TOPK = 3 };

typedef struct {
	const char *path;
	int M;                        /* models */
	int V;                        /* vocabulary size */
	int kind;                     /* PROBS_*, from the first record with P > 0 */
	int K;                        /* top-K width (PROBS_TOPK) */
	float *lut;                   /* f16 -> f32, 65536 entries (PROBS_F16) */
	char **name;                  /* [nname] the models' names (probs_model) */
	int nname;
} probs_stream;

typedef struct {
	const char *name;
	int P;                        /* masked positions */
	const int32_t *mask_pos, *labels;
	const float *f32;             /* [M,P,V] when PROBS_F32 */
	const uint16_t *f16;          /* [M,P,V] when PROBS_F16 */
	const int32_t *top_ids;       /* [M,P,K] when PROBS_TOPK */
	const float *top_probs;       /* [M,P,K] */
	const float *top_rest;        /* [M,P] */
} probs_rec;

/* from the header: M (probe_models) and V (probe_vocab_size); either may be
 * absent, then the first record sets it; the models' names.  0, or -1 + err. */
int probs_init(probs_stream *s, const tns_header *h, const char *path, char *err, int errlen);
void probs_free(probs_stream *s);
/* the masked positions of rec; 0, or -1 + err (no probs, shapes, V or M
 * different from the stream's, labels out of range) */
int probs_get(probs_stream *s, const tns_record *rec, probs_rec *r, char *err, int errlen);
/* model m's distribution at position j (full kinds): a pointer into the
 * record (f32) or buf converted (f16, V floats) */
const float *probs_row(const probs_stream *s, const probs_rec *r, int m, int j, float *buf);
/* model m's name in the analyses' model columns: its path as given to
 * lmprobe (@MO ID:m PA:path), or m itself ("0", "1"...) if the stream does
 * not say */
const char *probs_model(probs_stream *s, int m);
/* "probs f32", "probs f16", "top-K" */
const char *probs_kind_name(int kind);

#endif
