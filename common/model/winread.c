/* winread.c -- token windows in batches (see winread.h). */
#include "model/winread.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "base/util.h"
#include "model/model.h"

/* fills e; returns -1 */
static int fail(winread_err *e, const char *file, int usage, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(winread_err *e, const char *file, int usage, const char *fmt, ...)
{
	va_list ap;
	e->file = file;
	e->usage = usage;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

void winread_die(const winread_err *e)
{
	if (e->usage) die_usage("%s", e->msg);
	if (!e->file) die("%s", e->msg);
	die_file(e->file, "%s", e->msg);
}

/* record rec into batch slot `slot`, checked: its tokens, their length
 * (the first record's sets T) and ids */
static int take(winread *w, const tns_record *rec, int slot, winread_err *e)
{
	const tns_tensor *t = tns_get(rec, "tokens");
	if (!t || t->dtype != TNS_I32 || t->ndim != 1)
		return fail(e, w->path, 0, "record %" PRIu64 " (%s) has no i32[T] 'tokens' tensor (not seqtok output?)", rec->index, rec->name);
	if (w->T == 0) {
		if (t->dim[0] < 2 || t->dim[0] > (1 << 20)) return fail(e, w->path, 0, "record %s: bad window length %" PRId64, rec->name, t->dim[0]);
		w->T = (int)t->dim[0];
		w->tok = xmalloc((size_t)w->cap * w->T * sizeof *w->tok);
	}
	if (t->dim[0] != w->T)
		return fail(e, w->path, 0, "record %" PRIu64 " (%s): window of %" PRId64 " tokens, the stream's first has %d", rec->index, rec->name, t->dim[0], w->T);
	const int32_t *src = t->data;
	for (int i = 0; i < w->T; i++)
		if (src[i] < 0 || src[i] >= w->vocab.n)
			return fail(e, w->path, 0, "record %" PRIu64 " (%s): token id %d outside the vocabulary (%d)", rec->index, rec->name, src[i], w->vocab.n);
	memcpy(w->tok + (size_t)slot * w->T, src, (size_t)w->T * sizeof *src);
	tns_record_free(&w->rec[slot]);
	tns_record_copy(&w->rec[slot], rec);
	w->name[slot] = w->rec[slot].name;
	return 0;
}

int winread_open_header(winread *w, const char *path, int fd, int cap, winread_err *e)
{
	char err[512];
	const char *name = path ? path : "-";
	memset(w, 0, sizeof *w);
	w->r = fd >= 0 ? tns_open_fd(fd, name, err, sizeof err) : tns_open(name, err, sizeof err);
	if (!w->r) return fail(e, name, 0, "%s", err);
	int vr = vocab_from_header(&w->vocab, tns_reader_header(w->r), err, sizeof err);
	if (vr < 0) {
		tns_close_reader(w->r);
		memset(w, 0, sizeof *w);
		if (vr == -1) return fail(e, name, 0, "no tokenizer vocabulary in the header (not seqtok output?)");
		return fail(e, name, 0, "%s", err);
	}
	w->path = xstrdup(name);
	w->cap = cap;
	w->name = xcalloc(cap, sizeof *w->name);
	w->rec = xcalloc(cap, sizeof *w->rec);
	return 0;
}

int winread_open(winread *w, const char *path, int fd, int cap, winread_err *e)
{
	if (winread_open_header(w, path, fd, cap, e) < 0) return -1;
	/* read the first record now, so T is known before any batch */
	tns_record rec;
	int rc = tns_read(w->r, &rec);
	if (rc > 0 && take(w, &rec, 0, e) == 0) {
		w->peeked = 1;
		return 0;
	}
	if (rc < 0) fail(e, path ? path : "-", 0, "%s", tns_error(w->r));
	if (rc == 0) fail(e, path ? path : "-", 0, "no token windows in the input");
	e->file = path ? path : "-";       /* not w->path: freed now */
	winread_close(w);
	return -1;
}

void winread_grow(winread *w, int cap)
{
	if (cap <= w->cap) return;
	w->rec = xrealloc(w->rec, (size_t)cap * sizeof *w->rec);
	memset(w->rec + w->cap, 0, (size_t)(cap - w->cap) * sizeof *w->rec);
	w->name = xrealloc(w->name, (size_t)cap * sizeof *w->name);
	for (int i = 0; i < cap; i++) w->name[i] = i < w->cap ? w->rec[i].name : NULL;
	w->tok = xrealloc(w->tok, (size_t)cap * w->T * sizeof *w->tok);
	w->cap = cap;
}

void winread_shard(winread *w, int k, int n, int block)
{
	w->shard_k = k, w->shard_n = n, w->shard_block = block > 0 ? block : 1;
}

/* window i of the stream (0-based) belongs to this reader's shard */
static int in_shard(const winread *w, long i)
{
	return !w->shard_n || (i / w->shard_block) % w->shard_n == w->shard_k - 1;
}

int winread_next(winread *w, winread_err *e)
{
	tns_record rec;
	w->n = 0;
	if (w->peeked) { w->n = in_shard(w, 0); w->peeked = 0; w->seen = 1; }
	while (w->n < w->cap) {
		int rc = tns_read(w->r, &rec);
		if (rc < 0) return fail(e, w->path, 0, "%s", tns_error(w->r));
		if (rc == 0) break;
		if (in_shard(w, w->seen++) && take(w, &rec, w->n++, e) < 0) return -1;
	}
	w->total += w->n;
	return w->n;
}

void winread_close(winread *w)
{
	tns_close_reader(w->r);
	for (int i = 0; i < w->cap; i++) tns_record_free(&w->rec[i]);
	free(w->rec);
	free(w->name);
	free(w->tok);
	free(w->path);
	vocab_free(&w->vocab);
	memset(w, 0, sizeof *w);
}

int winread_spool_stdin(winread_err *e)
{
	FILE *fp = tmpfile();
	ssize_t k;
	if (!fp) return fail(e, NULL, 0, "cannot create a temporary file: %s", strerror(errno));
	char *buf = xmalloc(1 << 20);
	int fd = fileno(fp), rc = 0;
	while (!rc && (k = read(STDIN_FILENO, buf, 1 << 20)) != 0) {
		if (k < 0 && errno == EINTR) continue;
		if (k < 0) rc = fail(e, "-", 0, "read error: %s", strerror(errno));
		for (ssize_t off = 0; !rc && off < k;) {
			ssize_t wr = write(fd, buf + off, k - off);
			if (wr < 0 && errno == EINTR) continue;
			if (wr < 0) rc = fail(e, NULL, 0, "cannot write a temporary file: %s", strerror(errno));
			off += wr;
		}
	}
	free(buf);
	if (rc) { fclose(fp); return -1; }
	int keep = dup(fd);      /* the FILE may go; the unlinked file stays open */
	fclose(fp);
	return keep;
}

/* a command-line word that strtod reads whole: a stray mask probability */
static int is_number(const char *s)
{
	char *end;
	if (!*s) return 0;
	strtod(s, &end);
	return *end == 0;
}

/* one model file's header: its configuration and vocabulary hash */
static int check_model_file(const char *path, winread_model *mi, winread_err *e)
{
	char err[512];
	struct stat st;
	if (is_number(path) && stat(path, &st) != 0)
		return fail(e, path, 1, "%s: no such model file; did you mean --mask-prob %s? (-q is --quiet)", path, path);
	if (strpbrk(path, "\t\n"))
		return fail(e, path, 1, "model path with a tab or newline: it names the model in the output's TSV columns");
	tns_reader *r = tns_open(path, err, sizeof err);
	if (!r) return fail(e, path, 0, "%s", err);
	const tns_header *h = tns_reader_header(r);
	int rc = 0;
	mi->path = path;
	if (model_config_from_header(h, &mi->c, err, sizeof err) < 0) rc = fail(e, path, 0, "%s", err);
	else if (!(mi->vocab_hash = vocab_header_hash(h)))
		rc = fail(e, path, 0, "the model has no tokenizer vocabulary in its header");
	tns_close_reader(r);
	return rc;
}

int winread_check_model_files(char **paths, int n, winread_model *mi, winread_err *e)
{
	for (int k = 0; k < n; k++)
		if (check_model_file(paths[k], &mi[k], e) < 0) return -1;
	return 0;
}

int winread_check_model(const winread *w, const winread_model *mi, winread_err *e)
{
	if (mi->vocab_hash != w->vocab.hash)
		return fail(e, mi->path, 0, "the model's vocabulary (%016" PRIx64 ") is not the one of %s (%016" PRIx64 "): trained on another tokenizer",
		            mi->vocab_hash, w->path, w->vocab.hash);
	if (mi->c.vocab_size != w->vocab.n)
		return fail(e, mi->path, 0, "the model's vocab_size %d is not the stream's %d", mi->c.vocab_size, w->vocab.n);
	if (w->vocab.id.mask < 0)
		return fail(e, mi->path, 0, "the vocabulary has no mask token: a masked language model cannot be probed with it");
	/* cutting windows would change what the model sees and where: refuse,
	 * and say how to make windows that fit */
	if (w->T > bert_max_tokens(&mi->c))
		return fail(e, mi->path, 0, "windows of %d tokens exceed the model's %d positions (max_position_embeddings): make the windows with seqtok -T %d",
		            w->T, bert_max_tokens(&mi->c), bert_max_tokens(&mi->c));
	return 0;
}

int winread_read_model(const char *path, bert_model *m, tns_header *h, winread_model *mi, winread_err *e)
{
	char err[512];
	tns_header mh;
	if (model_load(path, m, &mh, NULL, NULL, err, sizeof err) < 0) return fail(e, path, 0, "%s", err);
	winread_model x = {path, m->c, vocab_header_hash(&mh)};
	if (!x.vocab_hash) {
		tns_header_free(&mh);
		bert_free(m);
		return fail(e, path, 0, "the model has no tokenizer vocabulary in its header");
	}
	if (mi) *mi = x;
	if (h) *h = mh;
	else tns_header_free(&mh);
	return 0;
}

int winread_load_model(const winread *w, const char *path, bert_model *m, tns_header *h, winread_err *e)
{
	winread_model mi;
	if (winread_read_model(path, m, h, &mi, e) < 0) return -1;
	if (winread_check_model(w, &mi, e) == 0) return 0;
	if (h) tns_header_free(h);
	bert_free(m);
	return -1;
}
