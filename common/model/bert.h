/* bert.h -- a BERT masked language model with HuggingFace BertForMaskedLM
 * semantics, forward and backward, in the style of llm.c: every layer is a
 * *_forward / *_backward pair over flat float arrays, all parameters live in
 * one contiguous buffer (and all gradients in another of the same layout),
 * addressed by their HF names.
 *
 * Layout of a batch: B records of T tokens, row r = b*T + t; hidden states
 * are [B*T, d] row-major.  Attention uses a key padding mask (<PAD> keys get
 * probability 0, as HF's additive -inf mask does), position ids 0..T-1 and
 * token type 0 everywhere.
 *
 * Dropout (training only) sits where HF puts it: after the embedding
 * LayerNorm, on the attention probabilities, and on the outputs of the
 * attention-output and FFN-output dense layers before their residual adds.
 * The keep/drop decision of every element is a pure function of
 * (seed, step, record, site, element): see bert_drop_keep(). */
#ifndef SEQLM_BERT_H
#define SEQLM_BERT_H

#include <stddef.h>
#include <stdint.h>

/* Variants of the architecture, for the model families beyond BERT
 * (ESM / Nucleotide Transformer, GENA-LM, DNABERT-2).
 * Every zero value is BERT's, so a zeroed config is today's model;
 * bert_config_unsupported() names any value not implemented yet, and every
 * way a model enters (bert_init, model files, config.json) refuses it with
 * that name.  Each field has one branch point in bert.c (and, for
 * parameters, rows of the table in bert_table.c).
 *
 * Pre-LN layers (GENA-LM's BertLayer with pre_layer_norm, ESM's EsmLayer):
 * h = LN1(x); a = x + drop(attention-output(h)); x' = a + drop(FFN(LN2(a))),
 * no LayerNorm after the residual adds (ln1 = pre_attention_ln, ln2 =
 * post_attention_ln).  final_ln: x[L] = LN(x[L]) after the last layer;
 * bert_hidden(a, L) is after it (HF's last output_hidden_states entry).
 * The embeddings: word (token dropout: <mask> rows zero, each record's rows
 * times 0.88 / (1 - #<mask> / #non-<PAD>), the masks the caller put in
 * included) + token type 0 (type_vocab > 0) + learned positions
 * (absolute or offset; none for rotary, ALiBi, none), LayerNorm (not with
 * emb_noln), then ESM (lm_head ESM): times the attention mask, no dropout;
 * others: dropout. */
typedef enum {
	BERT_NORM_POST = 0,           /* LayerNorm after each residual add (BERT) */
	BERT_NORM_PRE,                /* LayerNorm before attention and FFN (ESM, GENA-LM) */
} bert_norm;
typedef enum {
	BERT_POS_ABSOLUTE = 0,        /* learned, position ids 0..T-1 (BERT) */
	BERT_POS_OFFSET,              /* learned, ids from pos_offset (ESM: padding_idx + 1) */
	BERT_POS_ROTARY,              /* rotary on q and k (NT v2) */
	BERT_POS_ALIBI,               /* linear attention biases (DNABERT-2) */
	BERT_POS_NONE,                /* no position information */
} bert_pos;
typedef enum {
	BERT_FFN_GELU = 0,            /* dense, GELU, dense (BERT) */
	BERT_FFN_GEGLU,               /* GELU(x W1) * (x W2), dense (DNABERT-2); the
	                               * gated product has no bias (MosaicBERT's) */
	BERT_FFN_SWIGLU,              /* SiLU(x W1) * (x W2), dense (NT v2) */
} bert_ffn;
typedef enum {
	BERT_LMHEAD_BERT = 0,         /* transform (dense, GELU, LayerNorm), tied decoder + bias */
	BERT_LMHEAD_ESM,              /* EsmLMHead: dense, GELU, LayerNorm, decoder, bias: the
	                               * same products as BERT's head (modeling_esm.py
	                               * EsmLMHead.forward), so the same code.  The value also
	                               * marks ESM's embeddings (EsmEmbeddings.forward): their
	                               * output times the attention mask (<PAD> rows zero) and
	                               * no dropout on them (none in ESM) */
} bert_lmhead;
typedef struct {
	int vocab_size;               /* V */
	int hidden;                   /* d */
	int layers;                   /* L */
	int heads;                    /* h, divides d */
	int ffn;                      /* intermediate_size */
	int max_pos;                  /* max_position_embeddings */
	int type_vocab;               /* type_vocab_size (1) */
	float ln_eps;                 /* 1e-12 */
	float hidden_drop;            /* hidden_dropout_prob, 0.1 */
	float attn_drop;              /* attention_probs_dropout_prob, 0.1 */
	int pad_id;                   /* pad_token_id: no attention to it, its embedding row
	                               * gets no gradient (padding_idx); -1 none */
	int mask_id;                  /* mask_token_id, -1 none */
	/* the variant (all zero: BERT); ints so that model.c's table of
	 * @KV keys can address them */
	int norm;                     /* bert_norm */
	int final_ln;                 /* 1: a LayerNorm after the last layer (ESM emb_layer_norm_after) */
	int pos;                      /* bert_pos */
	int pos_offset;               /* BERT_POS_OFFSET: the first position id.  ESM's
	                               * create_position_ids_from_input_ids: a record's k-th
	                               * non-<PAD> token (k = 0, 1, ..) gets pos_offset + k,
	                               * a <PAD> gets pos_offset - 1 (padding_idx: ESM sets
	                               * pos_offset = pad_token_id + 1), so windows hold at
	                               * most max_pos - pos_offset tokens (bert_max_tokens) */
	int ffn_kind;                 /* bert_ffn */
	int attn_nobias;              /* 1: q, k, v and attention output without biases */
	int ffn_nobias;               /* 1: the FFN's dense layers without biases (NT v2) */
	int lm_head;                  /* bert_lmhead */
	int emb_noln;                 /* 1: no LayerNorm after the embeddings (ESM without
	                               * emb_layer_norm_before) */
	int untied;                   /* 1: the decoder has its own weight
	                               * (tie_word_embeddings false: NT v2) */
	int token_dropout;            /* 1: ESM's token dropout at inference: <mask> rows of
	                               * the embeddings zero, each window's rows times
	                               * 0.88 / (1 - its fraction of <mask> tokens) */
	/* type_vocab 0: no token-type embeddings (ESM) */
} bert_config;

/* HF defaults, with the sizes of the named architecture ("4M", "20M", "90M",
 * docs/METHODS.md#models) and vocabulary V; -1 if the name is unknown */
int bert_config_named(bert_config *c, const char *name, int vocab_size);
/* NULL if c is usable, else what is wrong with it (an unsupported
 * variant included: bert_config_unsupported()'s text) */
const char *bert_config_check(const bert_config *c);
/* the longest window c's positions allow: max_pos, less pos_offset for
 * offset position ids */
int bert_max_tokens(const bert_config *c);
/* NULL if every variant field of c is implemented, else what is not, e.g.
 * "pre-LN layers", "rotary position embeddings" (for "... is not supported
 * yet") */
const char *bert_config_unsupported(const bert_config *c);

/* ALiBi's slope of each of n heads (MosaicBERT / DNABERT-2): the bias of
 * head h on the score of query i and key j is -slope[h] * |i - j| */
void bert_alibi_slopes(int n, float *slope);

/* pointers into one buffer laid out by the parameter table */
typedef struct {
	float *qw, *qb, *kw, *kb, *vw, *vb;    /* attention.self.{query,key,value} */
	float *ow, *ob, *ln1w, *ln1b;          /* attention.output.{dense,LayerNorm}; pre-LN:
	                                        * ln1 = pre_attention_ln (before attention),
	                                        * ln2 = post_attention_ln (before the FFN) */
	float *iw, *ib;                        /* intermediate.dense [ffn,d]; gated FFNs
	                                        * [2 ffn,d]: the gate's rows, then the up rows */
	float *fw, *fb, *ln2w, *ln2b;          /* output.{dense [d,ffn],LayerNorm} */
} bert_layer_w;

typedef struct {
	float *wte, *wpe, *wtt, *eln_w, *eln_b;   /* bert.embeddings.* */
	bert_layer_w *layer;                       /* L */
	float *cls_bias;                           /* cls.predictions.bias [V] */
	float *tw, *tb, *tln_w, *tln_b;            /* cls.predictions.transform.* */
	float *fln_w, *fln_b;                      /* bert.encoder.last_layer_ln.* (final_ln) */
	float *dec_w;                              /* cls.predictions.decoder.weight [V,d]
	                                            * (untied; NULL: tied to wte) */
} bert_weights;

/* ---- the parameter table ------------------------------------------------
 * One row per parameter tensor (bert_table.c): its HF name, its shape as a
 * function of the config, how it is initialised, and where its pointer
 * sits in bert_weights or bert_layer_w.  The table alone decides the order
 * of the parameters in the buffer and in files, their names on disk and in
 * HF checkpoints, and which pointer each one binds: a new parameter is one
 * row (and its pointer field). */
typedef enum { BERT_AT_EMB, BERT_AT_LAYER, BERT_AT_HEAD } bert_scope;   /* in file order */
typedef enum {                    /* a dimension, from the config */
	BERT_DIM_NONE = 0, BERT_DIM_HIDDEN, BERT_DIM_FFN, BERT_DIM_VOCAB, BERT_DIM_POS, BERT_DIM_TYPE,
	BERT_DIM_FFN_IN,              /* the FFN's first product: ffn, or 2 ffn when gated */
} bert_dim;
typedef enum {                    /* HF BertForMaskedLM._init_weights */
	BERT_INIT_NORMAL,             /* normal(0, 0.02) */
	BERT_INIT_EMBED,              /* the same, the padding_idx row zero */
	BERT_INIT_ZERO,               /* biases, LayerNorm bias */
	BERT_INIT_ONE,                /* LayerNorm weight */
} bert_init_kind;

typedef struct {
	const char *name;             /* HF name; a layer's holds %d for the layer */
	bert_scope scope;
	bert_dim rows, cols;          /* PyTorch shape [rows] or [rows, cols] */
	bert_init_kind init;
	size_t ptr;                   /* offsetof its pointer in bert_weights (EMB,
	                               * HEAD) or bert_layer_w (LAYER) */
	const char *tied;             /* an HF name tied to it (the decoder), or NULL */
	int (*when)(const bert_config *c);   /* NULL: always; else whether c has it */
} bert_spec;

extern const bert_spec bert_specs[];
extern const int bert_nspecs;

/* one parameter tensor of a model: HF name and PyTorch shape */
typedef struct {
	char name[96];
	int ndim;
	int64_t dim[2];
	size_t off, n;                /* offset and size in floats in the buffer */
	int spec, layer;              /* its row of bert_specs; its layer (-1: none) */
} bert_param;

typedef struct {
	bert_config c;
	int np;                       /* number of parameter tensors */
	bert_param *p;                /* the table, in file/buffer order */
	size_t n;                     /* total floats */
	float *params;  bert_weights w;
	float *grads;   bert_weights g;   /* NULL until bert_alloc_grads() */
	int nthreads;
	int whole;                    /* 1: each product one BLAS call (bert_set_single) */
	int bf16;                     /* products take bfloat16 inputs (bert_set_precision) */
	uint16_t *wbf;                /* bf16: params rounded to bfloat16, same layout */
} bert_model;

/* builds the table and allocates zeroed parameters; 0 or -1 (bad config) */
int bert_init(bert_model *m, const bert_config *c);
/* the parameter table alone (m->params NULL, nothing bound): for a caller
 * that streams parameters from elsewhere (lmconvert); bert_free frees it */
int bert_init_table(bert_model *m, const bert_config *c);
void bert_free(bert_model *m);
void bert_alloc_grads(bert_model *m);       /* zeroed */
void bert_zero_grads(bert_model *m);
/* threads of m's products and row work; the products are cut into chunks
 * by shape alone, so the bits are the same for any nthreads */
void bert_set_threads(bert_model *m, int nthreads);
/* one thread, and each product in one BLAS call instead of chunks: for a
 * caller that runs records or models side by side, one thread each, and
 * never changes that (lmprobe).  OpenBLAS packs each operand once per call,
 * so a product over many rows then packs the weights once. */
void bert_set_single(bert_model *m);
/* Precision of the matrix products: 0 fp32 (the default), 1 bf16: every
 * product (QKV, attention scores and context, output, FFN, the head, and
 * their backward) rounds its inputs to bfloat16 and accumulates in fp32
 * through oneDNN (mm.h); parameters, gradients, LayerNorm, softmax, GELU
 * and the loss stay fp32 (PyTorch autocast's split).  Call before
 * bert_acts_new.  Returns NULL, or why bf16 cannot run here (m unchanged).
 * The weights are rounded now, once: call bert_params_changed() after
 * changing m->params. */
const char *bert_set_precision(bert_model *m, int bf16);
/* m->params changed (an optimiser step, a load): in bf16 the weights are
 * rounded again (in parallel on m's threads); nothing to do in fp32 */
void bert_params_changed(bert_model *m);
/* m->p and m->n from m->c by the table (bert_table.c; m->p allocated) */
void bert_build_table(bert_model *m);
/* binds a buffer of m->n floats to the weight pointers (those of
 * parameters the config does not have: NULL) */
void bert_bind(const bert_model *m, float *buf, bert_weights *w);
/* 1 if an HF checkpoint's tensor name is one a masked language model does
 * not use (BertForPreTraining's pooler and next-sentence head, the
 * position_ids buffer), 0 if not */
int bert_hf_ignored(const char *name);
/* index of a parameter by HF name, -1 if none */
int bert_param_find(const bert_model *m, const char *name);
/* HF BertForMaskedLM._init_weights: normal(0, 0.02) for Linear and
 * Embedding weights, zero biases, LayerNorm weight 1 bias 0, the <PAD> row
 * of the word embeddings zero, cls.predictions.bias zero.  Each tensor
 * draws from its own stream keyed by (seed, tensor index). */
void bert_init_weights(bert_model *m, uint64_t seed);
/* FNV-1a 64 over the parameter bytes in table order */
uint64_t bert_hash(const bert_model *m);

/* dropout identity of a forward pass; rec0 is added to record indices so
 * micro-batches of one batch draw what the whole batch would */
typedef struct {
	uint64_t seed, step;
	int rec0;
} bert_drop;

/* dropout sites */
enum { BERT_SITE_EMB = 0 };
static inline int bert_site_attn(int l) { return 1 + 3 * l; }
static inline int bert_site_attn_out(int l) { return 2 + 3 * l; }
static inline int bert_site_ffn_out(int l) { return 3 + 3 * l; }
/* drop threshold: an element is kept when its 16-bit draw is >= this */
static inline uint32_t bert_drop_threshold(float p)
{
	double t = (double)p * 65536.0 + 0.5;
	return t >= 65536.0 ? 65536u : (uint32_t)t;
}
/* Keep flags of n consecutive elements of a slab starting at element e0
 * (e0 multiple of 4): element e draws 16 bits, bits 16*(e%4).. of
 * rng_mix(base + K*(e/4 + 1)), base = rng_hash4(seed, step, record, site). */
void bert_drop_mask(uint64_t seed, uint64_t step, uint64_t record, int site,
                    uint64_t e0, size_t n, float p, uint8_t *keep);

/* Activations of one batch.  train != 0 keeps every layer's intermediate
 * values for the backward pass; otherwise layers share one scratch set and
 * only the hidden states (all L+1) are kept. */
typedef struct bert_acts bert_acts;
bert_acts *bert_acts_new(const bert_model *m, int B, int T, int train);
void bert_acts_free(bert_acts *a);

/* Encoder forward of B <= capacity records of T tokens (tokens[B*T]);
 * drop NULL = no dropout (inference). */
void bert_forward(bert_model *m, bert_acts *a, const int32_t *tokens, int B, int T,
                  const bert_drop *drop);
/* Inference forward (no dropout, acts made with train = 0) that computes
 * the last layer only at the nr rows listed (row = b*T + t, ascending):
 * keys and values there take every row, the rest of the layer only the
 * listed ones, so bert_head at those rows costs a fraction of a full
 * forward.  Afterwards bert_hidden(a, L) is valid at the listed rows only
 * (every earlier layer in full).  Unsorted rows fall back to bert_forward. */
void bert_forward_rows(bert_model *m, bert_acts *a, const int32_t *tokens, int B, int T,
                       const int *rows, int nr);
/* hidden states after layer l (0 = embeddings output, L = last), [B*T,d] */
const float *bert_hidden(const bert_acts *a, int l);

/* MLM head + mean cross-entropy over the positions with labels[r] >= 0
 * (labels[B*T]); the vocabulary projection runs only at those rows.
 * Returns the mean loss (0 if no position is labelled); per-row losses and
 * the probabilities are kept for bert_backward. */
float bert_mlm_loss(bert_model *m, bert_acts *a, const int32_t *labels);
int bert_nmasked(const bert_acts *a, int b0, int nb);   /* labelled rows of records [b0,b0+nb) */

/* Backward of forward + mlm_loss for records [b0, b0+nb) only (the whole
 * batch: 0, B), with d loss / d logit = scale * (p - onehot) at their
 * labelled rows (scale = 1/nmasked for the batch mean).  Gradients are
 * ADDED to m->grads. */
void bert_backward(bert_model *m, bert_acts *a, int b0, int nb, float scale);

/* Inference head at chosen rows (row = b*T + t) of the last forward:
 * out[nrows, V] gets logits, or softmax probabilities if probs != 0.
 * Returns them in a's own buffer too (valid until the next call on a);
 * out may be NULL then. */
const float *bert_head(bert_model *m, bert_acts *a, const int *rows, int nrows, float *out, int probs);

/* floating-point operations of one training step (fwd+bwd) per token, the
 * convention used for the GFLOP/s figures (2 per multiply-add, matrix
 * products only, vocabulary projection at a fraction mask_frac of rows) */
double bert_train_flops_per_token(const bert_config *c, int T, double mask_frac);

#endif
