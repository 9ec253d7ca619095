/* ckpt.c -- lmtrain checkpoints; see ckpt.h */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "model/ckpt.h"
#include "base/cli.h"
#include "model/model.h"

void ckpt_state_init(ckpt_state *s)
{
	memset(s, 0, sizeof *s);
	s->best_loss = INFINITY;
	s->best_step = -1;
}

void ckpt_state_free(ckpt_state *s)
{
	free(s->eval_step); free(s->eval_loss); free(s->eval_acc);
	free(s->log); free(s->flog);
	ckpt_state_init(s);
}

void ckpt_state_add_eval(ckpt_state *s, int64_t step, double loss, double acc)
{
	s->eval_step = xrealloc(s->eval_step, (s->neval + 1) * sizeof *s->eval_step);
	s->eval_loss = xrealloc(s->eval_loss, (s->neval + 1) * sizeof *s->eval_loss);
	s->eval_acc = xrealloc(s->eval_acc, (s->neval + 1) * sizeof *s->eval_acc);
	s->eval_step[s->neval] = step, s->eval_loss[s->neval] = loss, s->eval_acc[s->neval] = acc;
	s->neval++;
}

/* fsync a file (or a folder) by name; 0 ok */
static int sync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

static int write_state(tns_writer *w, const ckpt_state *s)
{
	int64_t sc[6] = { s->step, s->adam_t, s->windows, (int64_t)s->data_hash, s->best_step, s->neval };
	static const char *const names[6] = { "step", "adam_t", "windows", "data_hash", "best_step", "neval" };
	tns_tensor t[12];
	int n = 0;
	for (int i = 0; i < 6; i++) t[n++] = tns_tensor_1d(names[i], TNS_I64, 1, &sc[i]);
	t[n++] = tns_tensor_1d("best_loss", TNS_F64, 1, &s->best_loss);
	t[n++] = tns_tensor_1d("eval_step", TNS_I64, s->neval, s->eval_step);
	t[n++] = tns_tensor_1d("eval_loss", TNS_F64, s->neval, s->eval_loss);
	t[n++] = tns_tensor_1d("eval_acc", TNS_F64, s->neval, s->eval_acc);
	t[n++] = tns_tensor_1d("log", TNS_U8, (int64_t)s->loglen, s->log);
	t[n++] = tns_tensor_1d("fisher_log", TNS_U8, (int64_t)s->floglen, s->flog);
	return tns_write(w, "state", n, t);
}

int ckpt_write(const char *path, const tns_header *h, const bert_model *m, const adamw *o,
               const ckpt_state *s, const float *best, char *err, size_t len)
{
	struct stat st;
	/* a device (/dev/full, /dev/null) is written in place, as tns_create does */
	int inplace = stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
	char *tmp = xmalloc(strlen(path) + 8), *tmptmp = xmalloc(strlen(path) + 16);
	sprintf(tmp, "%s%s", path, inplace ? "" : ".new");
	sprintf(tmptmp, "%s.tmp", tmp);
	if (!inplace) cli_tmp_add(tmp), cli_tmp_add(tmptmp);   /* removed if we die meanwhile */
	char e[512];
	int ret = 0;
	tns_writer *w = tns_create(tmp, h, 0, e, sizeof e);
	if (!w) { snprintf(err, len, "%s", e); ret = -1; goto done; }
	if (model_write_buffer(w, m, "params", m->params) || model_write_buffer(w, m, "adam_m", o->m) ||
	    model_write_buffer(w, m, "adam_v", o->v) || write_state(w, s) ||
	    (best && model_write_buffer(w, m, "best_params", best)) || tns_close(w)) {
		snprintf(err, len, "%s", tns_werror(w));
		tns_abort(w);
		ret = -1;
		goto done;
	}
	if (!inplace) {
		if (sync_path(tmp, 0) != 0 || rename(tmp, path) != 0) {
			snprintf(err, len, "cannot sync or rename %s: %s", tmp, strerror(errno));
			unlink(tmp);
			ret = -1;
			goto done;
		}
		/* the rename itself is durable once the folder is synced */
		char *dir = xstrdup(path), *sl = strrchr(dir, '/');
		if (sl) *(sl == dir ? sl + 1 : sl) = 0; else strcpy(dir, ".");
		sync_path(dir, 1);
		free(dir);
	}
done:
	if (!inplace) cli_tmp_forget(tmp), cli_tmp_forget(tmptmp);
	free(tmp);
	free(tmptmp);
	return ret;
}

int ckpt_read_best(const char *path, const bert_model *m, float *best, char *err, size_t len)
{
	char e[512];
	tns_reader *r = tns_open(path, e, sizeof e);
	if (!r) { snprintf(err, len, "%s", e); return -1; }
	tns_record rec;
	int rr, ret = -2;
	while (ret == -2 && (rr = tns_read(r, &rec)) == 1)
		if (strcmp(rec.name, "best_params") == 0)
			ret = model_read_buffer(&rec, m, best, err, len) == 0 ? 0 : -1;
	if (ret == -2 && rr < 0) snprintf(err, len, "%s", tns_error(r)), ret = -1;
	else if (ret == -2) snprintf(err, len, "no best_params record (the model of the best eval loss)");
	tns_close_reader(r);
	return ret;
}

static int get1(const tns_record *rec, const char *name, tns_dtype dt, void *out, size_t sz)
{
	const tns_tensor *t = tns_get_typed(rec, name, dt, 1);
	if (!t || t->dim[0] != 1) return -1;
	memcpy(out, t->data, sz);
	return 0;
}

static int getv(const tns_record *rec, const char *name, tns_dtype dt, int64_t n, void **out)
{
	const tns_tensor *t = tns_get_typed(rec, name, dt, 1);
	if (!t || t->dim[0] != n) return -1;
	*out = xmalloc(t->nbytes + 1);
	memcpy(*out, t->data, t->nbytes);
	((char *)*out)[t->nbytes] = 0;
	return 0;
}

int ckpt_read_state(const char *path, ckpt_state *s, char *err, size_t len)
{
	char e[512];
	ckpt_state_init(s);
	tns_reader *r = tns_open(path, e, sizeof e);
	if (!r) { snprintf(err, len, "%s", e); return -1; }
	tns_record rec;
	int rr, found = 0, bad = 0;
	while ((rr = tns_read(r, &rec)) == 1) {
		if (strcmp(rec.name, "state") != 0 || found) continue;
		found = 1;
		int64_t sc[6], hash;
		if (get1(&rec, "step", TNS_I64, &sc[0], 8) || get1(&rec, "adam_t", TNS_I64, &sc[1], 8) ||
		    get1(&rec, "windows", TNS_I64, &sc[2], 8) || get1(&rec, "data_hash", TNS_I64, &hash, 8) ||
		    get1(&rec, "best_step", TNS_I64, &sc[4], 8) || get1(&rec, "neval", TNS_I64, &sc[5], 8) ||
		    get1(&rec, "best_loss", TNS_F64, &s->best_loss, 8) || sc[0] < 0 || sc[2] < 0 ||
		    sc[5] < 0 || sc[5] > (1 << 30)) { bad = 1; continue; }
		s->step = sc[0], s->adam_t = sc[1], s->windows = sc[2], s->data_hash = (uint64_t)hash;
		s->best_step = sc[4], s->neval = (int)sc[5];
		const tns_tensor *lg = tns_get_typed(&rec, "log", TNS_U8, 1);
		const tns_tensor *fl = tns_get_typed(&rec, "fisher_log", TNS_U8, 1);
		if (getv(&rec, "eval_step", TNS_I64, s->neval, (void **)&s->eval_step) ||
		    getv(&rec, "eval_loss", TNS_F64, s->neval, (void **)&s->eval_loss) ||
		    getv(&rec, "eval_acc", TNS_F64, s->neval, (void **)&s->eval_acc) || !lg || !fl ||
		    getv(&rec, "log", TNS_U8, lg->dim[0], (void **)&s->log) ||
		    getv(&rec, "fisher_log", TNS_U8, fl->dim[0], (void **)&s->flog)) { bad = 1; continue; }
		s->loglen = (size_t)lg->dim[0], s->floglen = (size_t)fl->dim[0];
	}
	int ret = 0;
	if (rr < 0) snprintf(err, len, "%s", tns_error(r)), ret = -1;
	else if (!found) snprintf(err, len, "no state record (a model, not a checkpoint)"), ret = -2;
	else if (bad) snprintf(err, len, "the state record is incomplete or malformed"), ret = -1;
	tns_close_reader(r);
	if (ret) ckpt_state_free(s);
	return ret;
}
