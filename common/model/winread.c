/* winread.c -- token windows in batches (see winread.h). */
#include "model/winread.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "base/util.h"
#include "model/model.h"

static int take(winread *w, const tns_record *rec, int slot)
{
	const tns_tensor *t = tns_get(rec, "tokens");
	if (!t || t->dtype != TNS_I32 || t->ndim != 1)
		die_file(w->path, "record %" PRIu64 " (%s) has no i32[T] 'tokens' tensor (not seqtok output?)", rec->index, rec->name);
	if (w->T == 0) {
		if (t->dim[0] < 2 || t->dim[0] > (1 << 20)) die_file(w->path, "record %s: bad window length %" PRId64, rec->name, t->dim[0]);
		w->T = (int)t->dim[0];
		w->tok = xmalloc((size_t)w->cap * w->T * sizeof *w->tok);
	}
	if (t->dim[0] != w->T)
		die_file(w->path, "record %" PRIu64 " (%s): window of %" PRId64 " tokens, the stream's first has %d", rec->index, rec->name, t->dim[0], w->T);
	int32_t *dst = w->tok + (size_t)slot * w->T;
	memcpy(dst, t->data, (size_t)w->T * sizeof *dst);
	for (int i = 0; i < w->T; i++)
		if (dst[i] < 0 || dst[i] >= w->vocab.n)
			die_file(w->path, "record %" PRIu64 " (%s): token id %d outside the vocabulary (%d)", rec->index, rec->name, dst[i], w->vocab.n);
	tns_record_free(&w->rec[slot]);
	tns_record_copy(&w->rec[slot], rec);
	w->name[slot] = w->rec[slot].name;
	return 0;
}

void winread_open(winread *w, const char *path, int fd, int cap)
{
	char err[512];
	memset(w, 0, sizeof *w);
	w->path = xstrdup(path ? path : "-");
	w->cap = cap;
	w->name = xcalloc(cap, sizeof *w->name);
	w->rec = xcalloc(cap, sizeof *w->rec);
	w->r = fd >= 0 ? tns_open_fd(fd, w->path, err, sizeof err) : tns_open(w->path, err, sizeof err);
	if (!w->r) die_file(w->path, "%s", err);
	int vr = vocab_from_header(&w->vocab, tns_reader_header(w->r), err, sizeof err);
	if (vr == -1) die_file(w->path, "no tokenizer vocabulary in the header (not seqtok output?)");
	if (vr < 0) die_file(w->path, "%s", err);
	/* read the first record now, so T is known before any batch */
	tns_record rec;
	int rc = tns_read(w->r, &rec);
	if (rc < 0) die_file(w->path, "%s", tns_error(w->r));
	if (rc == 0) die_file(w->path, "no token windows in the input");
	take(w, &rec, 0);
	w->peeked = 1;
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

int winread_next(winread *w)
{
	tns_record rec;
	w->n = 0;
	if (w->peeked) { w->n = in_shard(w, 0); w->peeked = 0; w->seen = 1; }
	while (w->n < w->cap) {
		int rc = tns_read(w->r, &rec);
		if (rc < 0) die_file(w->path, "%s", tns_error(w->r));
		if (rc == 0) break;
		if (in_shard(w, w->seen++)) take(w, &rec, w->n++);
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

int winread_spool_stdin(void)
{
	FILE *fp = tmpfile();
	char *buf = xmalloc(1 << 20);
	ssize_t k;
	if (!fp) die("cannot create a temporary file: %s", strerror(errno));
	int fd = fileno(fp);
	while ((k = read(STDIN_FILENO, buf, 1 << 20)) != 0) {
		if (k < 0 && errno == EINTR) continue;
		if (k < 0) die_file("-", "read error: %s", strerror(errno));
		for (ssize_t off = 0; off < k;) {
			ssize_t wr = write(fd, buf + off, k - off);
			if (wr < 0 && errno == EINTR) continue;
			if (wr < 0) die("cannot write a temporary file: %s", strerror(errno));
			off += wr;
		}
	}
	free(buf);
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

void winread_check_model_files(char **paths, int n, winread_model *mi)
{
	char err[512];
	for (int k = 0; k < n; k++) {
		const char *path = paths[k];
		struct stat st;
		if (is_number(path) && stat(path, &st) != 0)
			die_usage("%s: no such model file; did you mean --mask-prob %s? (-q is --quiet)", path, path);
		if (strpbrk(path, "\t\n"))
			die_usage("model path with a tab or newline: it names the model in the output's TSV columns");
		tns_reader *r = tns_open(path, err, sizeof err);
		if (!r) die_file(path, "%s", err);
		const tns_header *h = tns_reader_header(r);
		mi[k].path = path;
		if (model_config_from_header(h, &mi[k].c, err, sizeof err) < 0) die_file(path, "%s", err);
		mi[k].vocab_hash = vocab_header_hash(h);
		if (!mi[k].vocab_hash) die_file(path, "the model has no tokenizer vocabulary in its header");
		tns_close_reader(r);
	}
}

void winread_check_model(const winread *w, const winread_model *mi)
{
	if (mi->vocab_hash != w->vocab.hash)
		die_file(mi->path, "the model's vocabulary (%016" PRIx64 ") is not the one of %s (%016" PRIx64 "): trained on another tokenizer",
		         mi->vocab_hash, w->path, w->vocab.hash);
	if (mi->c.vocab_size != w->vocab.n)
		die_file(mi->path, "the model's vocab_size %d is not the stream's %d", mi->c.vocab_size, w->vocab.n);
	if (w->vocab.id.mask < 0)
		die_file(mi->path, "the vocabulary has no mask token: a masked language model cannot be probed with it");
	/* cutting windows would change what the model sees and where: refuse,
	 * and say how to make windows that fit */
	if (w->T > mi->c.max_pos)
		die_file(mi->path, "windows of %d tokens exceed the model's %d positions (max_position_embeddings): make the windows with seqtok -T %d",
		         w->T, mi->c.max_pos, mi->c.max_pos);
}

void winread_read_model(const char *path, bert_model *m, tns_header *h, winread_model *mi)
{
	char err[512];
	tns_header mh;
	if (model_load(path, m, &mh, NULL, NULL, err, sizeof err) < 0) die_file(path, "%s", err);
	winread_model x = {path, m->c, vocab_header_hash(&mh)};
	if (!x.vocab_hash) die_file(path, "the model has no tokenizer vocabulary in its header");
	if (mi) *mi = x;
	if (h) *h = mh;
	else tns_header_free(&mh);
}

void winread_load_model(const winread *w, const char *path, bert_model *m, tns_header *h)
{
	winread_model mi;
	winread_read_model(path, m, h, &mi);
	winread_check_model(w, &mi);
}
