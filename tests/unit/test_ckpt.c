/* test_ckpt.c -- lmtrain checkpoints (ckpt.c): every field of the state,
 * the AdamW moments and the best model come back as written (what a resumed
 * run needs to end bitwise where an uninterrupted one would); a model file
 * is no checkpoint; a malformed state is refused; a failed write leaves the
 * previous checkpoint intact and no temporary file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "model/ckpt.h"
#include "model/model.h"

static char dir[256];

static void tiny_model(bert_model *m, uint64_t seed)
{
	bert_config c;
	bert_config_named(&c, "4M", 10);
	c.layers = 1, c.hidden = 8, c.heads = 2, c.ffn = 8, c.max_pos = 8;
	bert_init(m, &c);
	bert_init_weights(m, seed);
}

static void fill_state(ckpt_state *s)
{
	ckpt_state_init(s);
	s->step = 120, s->adam_t = 119, s->windows = 3840;
	s->data_hash = 0xfedcba9876543210ULL;          /* top bit set: stored as i64, read back unsigned */
	s->best_loss = 2.5, s->best_step = 100;
	ckpt_state_add_eval(s, 50, 3.25, 0.125);
	ckpt_state_add_eval(s, 100, 2.5, 0.375);
	s->log = strdup("step\tloss\n1\t4.5\n"), s->loglen = strlen(s->log);
	s->flog = strdup("step\tgroup\tfisher\n"), s->floglen = strlen(s->flog);
}

static int exists(const char *p) { struct stat st; return stat(p, &st) == 0; }

static void test_round_trip(const char *path)
{
	bert_model m, r;
	adamw o, ro = { 0 };   /* model_load: n == 0 means "not yet allocated" */
	ckpt_state s, rs;
	tns_header h;
	char e[512] = "";
	tiny_model(&m, 1);
	adamw_init(&o, m.n);
	for (size_t i = 0; i < m.n; i++) o.m[i] = (float)i * 0.5f, o.v[i] = (float)i * 0.25f + 1;
	float *best = malloc(m.n * sizeof *best);
	for (size_t i = 0; i < m.n; i++) best[i] = -(float)i;
	fill_state(&s);
	tns_header_init(&h);
	model_set_header(&h, &m, 9, 42, s.step);
	ok(ckpt_write(path, &h, &m, &o, &s, best, e, sizeof e) == 0, "a checkpoint is written (%s)", e);
	char tmp[400];
	snprintf(tmp, sizeof tmp, "%s.new", path);
	ok(!exists(tmp), "and its temporary PATH.new is gone");

	int has_adam = 0;
	ok(model_load(path, &r, NULL, &ro, &has_adam, e, sizeof e) == 0 && has_adam, "it loads as a model with AdamW moments (%s)", e);
	ok(r.n == m.n && !memcmp(r.params, m.params, m.n * sizeof(float)), "params bit for bit");
	ok(ro.n == m.n && !memcmp(ro.m, o.m, m.n * sizeof(float)) && !memcmp(ro.v, o.v, m.n * sizeof(float)),
	   "adam_m and adam_v bit for bit");
	float *rb = calloc(m.n, sizeof *rb);
	ok(ckpt_read_best(path, &r, rb, e, sizeof e) == 0 && !memcmp(rb, best, m.n * sizeof(float)), "best_params bit for bit");
	ok(ckpt_read_state(path, &rs, e, sizeof e) == 0, "the state reads back (%s)", e);
	ok(rs.step == 120 && rs.adam_t == 119 && rs.windows == 3840, "step, adam_t, windows");
	ok(rs.data_hash == 0xfedcba9876543210ULL, "data_hash, all 64 bits");
	ok(rs.best_loss == 2.5 && rs.best_step == 100, "best loss and its step");
	ok(rs.neval == 2 && rs.eval_step[1] == 100 && rs.eval_loss[0] == 3.25 && rs.eval_acc[1] == 0.375, "the eval history");
	ok(rs.loglen == s.loglen && !memcmp(rs.log, s.log, s.loglen) && rs.floglen == s.floglen &&
	   !memcmp(rs.flog, s.flog, s.floglen), "the training and Fisher logs");
	ckpt_state_free(&rs);
	bert_free(&r);
	adamw_free(&ro);

	/* no best model: ckpt_read_best says there is none (-2) */
	ok(ckpt_write(path, &h, &m, &o, &s, NULL, e, sizeof e) == 0, "rewritten without best_params");
	ok(ckpt_read_best(path, &m, rb, e, sizeof e) == -2 && strstr(e, "no best_params"), "then there is none: %s", e);

	/* a failed write (its folder is gone) keeps nothing and says why */
	char bad[400];
	snprintf(bad, sizeof bad, "%s/missing/c.ckpt", dir);
	e[0] = 0;
	ok(ckpt_write(bad, &h, &m, &o, &s, NULL, e, sizeof e) == -1 && e[0], "a write into a missing folder fails: %s", e);
	ok(ckpt_read_state(path, &rs, e, sizeof e) == 0 && rs.step == 120, "the previous checkpoint is intact");
	ckpt_state_free(&rs);
	tns_header_free(&h);
	ckpt_state_free(&s);
	adamw_free(&o);
	free(best);
	free(rb);
	bert_free(&m);
}

static void test_not_a_checkpoint(const char *path)
{
	bert_model m;
	ckpt_state s;
	tns_header h;
	char e[512] = "";
	tiny_model(&m, 2);
	tns_header_init(&h);
	model_set_header(&h, &m, 1, 2, 3);
	tns_writer *w = tns_create(path, &h, 0, e, sizeof e);
	ok(w && model_write_buffer(w, &m, "params", m.params) == 0 && tns_close(w) == 0, "a plain model file");
	ok(ckpt_read_state(path, &s, e, sizeof e) == -2 && strstr(e, "a model, not a checkpoint"), "has no state: %s", e);

	/* a state record without its windows count */
	w = tns_create(path, &h, 0, e, sizeof e);
	int64_t one = 1;
	double loss = 1;
	tns_tensor t[] = {
		tns_tensor_1d("step", TNS_I64, 1, &one), tns_tensor_1d("adam_t", TNS_I64, 1, &one),
		tns_tensor_1d("data_hash", TNS_I64, 1, &one), tns_tensor_1d("best_step", TNS_I64, 1, &one),
		tns_tensor_1d("neval", TNS_I64, 1, &one), tns_tensor_1d("best_loss", TNS_F64, 1, &loss),
	};
	model_write_buffer(w, &m, "params", m.params);
	tns_write(w, "state", 6, t);
	tns_close(w);
	ok(ckpt_read_state(path, &s, e, sizeof e) == -1 && strstr(e, "incomplete or malformed"), "a state without windows: %s", e);
	tns_header_free(&h);
	bert_free(&m);
}

int main(void)
{
	char path[300];
	snprintf(dir, sizeof dir, "%s/seqlm-ckpt.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
	snprintf(path, sizeof path, "%s/c.ckpt", dir);
	test_round_trip(path);
	unlink(path);
	snprintf(path, sizeof path, "%s/m.tns", dir);
	test_not_a_checkpoint(path);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
