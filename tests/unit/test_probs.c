/* test_probs.c -- reading lmprobe output (analysis/probs): the header's
 * models and names, full f32 and f16 [M,P,V] and sparse top-K records,
 * and the errors every analysis relies on (shapes, a V or M that changes,
 * a kind that changes, labels outside the vocabulary). */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "analysis/probs.h"

#define MAXT 8
typedef struct {
	tns_record rec;
	tns_tensor t[MAXT];
	int32_t mask_pos[16], labels[16];
} rec_builder;

/* a record named name with P masked positions (labels 0, 1, ...) */
static void rb_init(rec_builder *b, const char *name, int P)
{
	memset(b, 0, sizeof *b);
	b->rec.name = (char *)name;
	b->rec.t = b->t;
	for (int j = 0; j < P; j++) { b->mask_pos[j] = 3 + 2 * j; b->labels[j] = j; }
	int64_t d[1] = {P};
	b->t[b->rec.n++] = tns_tensor_make("mask_pos", TNS_I32, 1, d, b->mask_pos);
	b->t[b->rec.n++] = tns_tensor_make("labels", TNS_I32, 1, d, b->labels);
}

static void rb_add(rec_builder *b, const char *name, tns_dtype dt, int nd, int64_t d0, int64_t d1, int64_t d2, void *data)
{
	int64_t d[3] = {d0, d1, d2};
	b->t[b->rec.n++] = tns_tensor_make(name, dt, nd, d, data);
}

/* probs_get's error for rec, or "" when it reads */
static const char *get_err(probs_stream *s, const tns_record *rec, probs_rec *r)
{
	static char err[512];
	err[0] = 0;
	if (probs_get(s, rec, r, err, sizeof err) == 0) return "";
	return err;
}

/* the error of a record of 2 positions with probs of this type and shape, or "" */
static const char *probs_err(probs_stream *s, const char *name, tns_dtype dt, int nd, int64_t d0, int64_t d1, int64_t d2,
                             void *data)
{
	rec_builder b;
	probs_rec r;
	rb_init(&b, name, 2);
	rb_add(&b, "probs", dt, nd, d0, d1, d2, data);
	return get_err(s, &b.rec, &r);
}

static int has(const char *got, const char *want)
{
	int c = strstr(got, want) != NULL;
	if (!c) diag("got '%s', want '%s' in it", got, want);
	return c;
}

static void stream_init(probs_stream *s, const char *const *lines, int n)
{
	tns_header h;
	char err[256];
	tns_header_init(&h);
	for (int i = 0; i < n; i++) tns_header_add(&h, "%s", lines[i]);
	if (probs_init(s, &h, "x.tns", err, sizeof err) < 0) diag("probs_init: %s", err);
	tns_header_free(&h);
}

/* probs_init's error on a header of one line, or "" */
static const char *init_err(const char *line)
{
	static char err[256];
	tns_header h;
	probs_stream s;
	err[0] = 0;
	tns_header_init(&h);
	tns_header_add(&h, "%s", line);
	int rc = probs_init(&s, &h, "x.tns", err, sizeof err);
	probs_free(&s);
	tns_header_free(&h);
	return rc < 0 ? err : "";
}

static void test_header(void)
{
	const char *lines[] = {"@KV\tprobe_models\t3", "@KV\tprobe_vocab_size\t5", "@MO\tID:0\tPA:a.tns",
	                       "@MO\tID:2\tPA:old.tns", "@MO\tID:2\tPA:c.tns"};
	probs_stream s;
	stream_init(&s, lines, 5);
	ok(s.M == 3 && s.V == 5, "the header gives M (probe_models) and V (probe_vocab_size)");
	ok(!strcmp(probs_model(&s, 0), "a.tns") && !strcmp(probs_model(&s, 2), "c.tns"),
	   "models are named by their @MO PA:, a later line for an ID replacing an earlier one");
	ok(!strcmp(probs_model(&s, 1), "1"), "a model without an @MO line is named by its index");
	probs_free(&s);

	ok(has(init_err("@KV\tprobe_models\t0"), "probe_models 0 is out of range"), "probe_models 0 is refused");
	ok(has(init_err("@KV\tprobe_vocab_size\t1"), "probe_vocab_size 1 is out of range"), "probe_vocab_size 1 is refused");
}

/* M = 2, P = 2, V = 4: row (m, j) holds 0.25 (m + 1) at token m + j,
 * 0.125 (j + 1) elsewhere: every row differs */
static void fill_rows(float *p)
{
	for (int m = 0; m < 2; m++)
		for (int j = 0; j < 2; j++)
			for (int v = 0; v < 4; v++) p[(m * 2 + j) * 4 + v] = v == m + j ? 0.25f * (m + 1) : 0.125f * (j + 1);
}

static void test_full(void)
{
	probs_stream s;
	stream_init(&s, NULL, 0);
	rec_builder b;
	float p[16], buf[4];
	uint16_t h[16];
	probs_rec r;
	fill_rows(p);
	rb_init(&b, "r0", 2);
	rb_add(&b, "probs", TNS_F32, 3, 2, 2, 4, p);
	ok(!strcmp(get_err(&s, &b.rec, &r), "") && s.kind == PROBS_F32 && s.M == 2 && s.V == 4 && r.P == 2,
	   "full f32 probs [M,P,V]: the first record sets M and V");
	ok(r.mask_pos[1] == 5 && r.labels[1] == 1 && !strcmp(r.name, "r0"), "the record's masked positions and labels");
	const float *row = probs_row(&s, &r, 1, 0, buf);
	ok(row == p + 8, "probs_row(m = 1, j = 0) points into the record at (m P + j) V, no copy");

	probs_stream s16;
	stream_init(&s16, NULL, 0);
	for (int i = 0; i < 16; i++) h[i] = tns_f32_to_f16(p[i]);
	rb_init(&b, "r0", 2);
	rb_add(&b, "probs", TNS_F16, 3, 2, 2, 4, h);
	ok(!strcmp(get_err(&s16, &b.rec, &r), "") && s16.kind == PROBS_F16, "f16 probs read");
	row = probs_row(&s16, &r, 1, 1, buf);
	ok(row == buf && !memcmp(buf, p + 12, sizeof buf), "probs_row converts an f16 row (m = 1, j = 1) into buf");

	/* a second f32 record of another V, another M, or f16 */
	float p6[2 * 2 * 6] = {0}, p3[3 * 2 * 4] = {0};
	ok(has(probs_err(&s, "r1", TNS_F32, 3, 2, 2, 6, p6), "record r1: the vocabulary size V is 6, but 4 earlier in the stream"),
	   "V changing between records is an error");
	ok(has(probs_err(&s, "r2", TNS_F32, 3, 3, 2, 4, p3), "record r2: the number of models is 3, but 2 earlier"), "M changing is an error");
	ok(has(probs_err(&s, "r3", TNS_F16, 3, 2, 2, 4, h), "record r3 holds probs f16, earlier records probs f32"), "the kind changing is an error");
	probs_free(&s);
	probs_free(&s16);

	/* V from the header, then a record that disagrees */
	const char *lines[] = {"@KV\tprobe_vocab_size\t5"};
	stream_init(&s, lines, 1);
	ok(has(probs_err(&s, "r0", TNS_F32, 3, 2, 2, 4, p), "the vocabulary size V is 4, but 5 earlier"), "a record's V against the header's");
	probs_free(&s);
}

/* a top-K record of M = 2, P = 2: top_probs K wide (ids 3), top_rest if rest */
static void topk_rec(rec_builder *b, const char *name, int32_t *ids, float *tp, int K, float *rest)
{
	rb_init(b, name, 2);
	rb_add(b, "top_ids", TNS_I32, 3, 2, 2, 3, ids);
	rb_add(b, "top_probs", TNS_F32, 3, 2, 2, K, tp);
	if (rest) rb_add(b, "top_rest", TNS_F32, 2, 2, 2, 0, rest);
}

static void test_topk(void)
{
	probs_stream s;
	stream_init(&s, NULL, 0);
	rec_builder b;
	probs_rec r;
	int32_t ids[2 * 2 * 3] = {7, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12};
	float tp[2 * 2 * 3] = {0.5f, 0.2f, 0.1f}, rest[2 * 2] = {0.2f};
	topk_rec(&b, "k0", ids, tp, 3, rest);
	ok(!strcmp(get_err(&s, &b.rec, &r), "") && s.kind == PROBS_TOPK && s.K == 3 && s.M == 2 && s.V == 0,
	   "sparse top-K: kind, K and M from the record, V unknown");
	ok(r.top_ids == ids && r.top_probs == tp && r.top_rest == rest && !r.f32 && !r.f16, "top-K: the three tensors, no full probs");
	topk_rec(&b, "k1", ids, tp, 3, NULL);
	ok(has(get_err(&s, &b.rec, &r), "record k1: need top_ids i32[M,P,K], top_probs f32[M,P,K], top_rest f32[M,P]"),
	   "top-K without top_rest is an error");
	topk_rec(&b, "k2", ids, tp, 2, rest);
	ok(has(get_err(&s, &b.rec, &r), "need top_ids"), "top_probs of another shape than top_ids is an error");
	probs_free(&s);
}

static void test_shapes(void)
{
	probs_stream s;
	stream_init(&s, NULL, 0);
	rec_builder b;
	probs_rec r;
	float p[2 * 3 * 4] = {0};
	ok(has(probs_err(&s, "s0", TNS_F32, 2, 2, 8, 0, p), "record s0: probs must be f32 or f16 [M,P,V]"), "probs of 2 dimensions is an error");
	ok(has(probs_err(&s, "s1", TNS_F32, 3, 2, 3, 4, p), "record s1: probs has 3 positions, mask_pos 2"), "probs' P against mask_pos'");
	rb_init(&b, "s2", 2);
	b.t[1].dim[0] = 1;
	rb_add(&b, "probs", TNS_F32, 3, 2, 2, 4, p);
	ok(has(get_err(&s, &b.rec, &r), "record s2: mask_pos and labels must be i32[P]"), "labels of another length than mask_pos");
	rb_init(&b, "s3", 2);
	ok(has(get_err(&s, &b.rec, &r), "record s3 has no probs (nor top_ids/top_probs)"), "positions without probs are an error");
	rb_init(&b, "s4", 0);
	ok(!strcmp(get_err(&s, &b.rec, &r), "") && r.P == 0 && s.kind == 0, "a record without positions needs no probs");
	rb_init(&b, "s5", 2);
	b.rec.n = 0;
	ok(has(get_err(&s, &b.rec, &r), "record s5 has no mask_pos: not lmprobe output?"), "no mask_pos: not lmprobe output");
	rb_init(&b, "s6", 2);
	b.labels[1] = 4;
	rb_add(&b, "probs", TNS_F32, 3, 2, 2, 4, p);
	ok(has(get_err(&s, &b.rec, &r), "record s6: label 4 at position 5 is outside the vocabulary"), "a label >= V is an error");
	probs_free(&s);
}

int main(void)
{
	test_header();
	test_full();
	test_topk();
	test_shapes();
	ok(!strcmp(probs_kind_name(PROBS_F32), "probs f32") && !strcmp(probs_kind_name(PROBS_TOPK), "top-K"), "kind names");
	return done_testing();
}
