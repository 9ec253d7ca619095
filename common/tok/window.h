/* window.h -- token windows as seqtok writes them: the tokenizer's
 * sequence start (<CLS>) + up to T-2 tokens + its sequence end (<SEP>),
 * padded with its padding token to T, one record per window, named
 * "seqname:beg-end" (1-based, inclusive, in bases; for text "file:line:beg-end"
 * in bytes of the document), and the deterministic train/eval split.  The
 * start, end and padding ids are the vocabulary's (tok_ids beg, end, pad);
 * a tokenizer without start or end token gives windows without it. */
#ifndef SEQLM_WINDOW_H
#define SEQLM_WINDOW_H

#include <stdint.h>
#include "tok/vocab.h"

enum { WIN_ALL, WIN_TRAIN, WIN_EVAL };

typedef struct {
	int T;                        /* tokens per window, >= 3 */
	double skip_n;                /* drop windows with a larger fraction of N; < 0: keep all */
	int split;                    /* WIN_ALL, WIN_TRAIN or WIN_EVAL */
	double eval_frac;             /* fraction of windows held out */
	uint64_t split_seed;
	int64_t max_windows;          /* stop after this many; < 0: no limit */
	int pack;                     /* fill windows with consecutive documents */
} win_opts;

/* writes one window; returns 0 or -1 */
typedef int (*win_write_fn)(void *ctx, const char *name, const int32_t *tokens, int T);

typedef struct {
	win_opts o;
	int32_t beg, end, pad;        /* the vocabulary's ids; beg, end -1: none */
	int per;                      /* tokens per window */
	win_write_fn write;
	void *ctx;
	int32_t *win;
	char *name;
	int64_t nwritten, n_dropped_n, n_other_split;
	/* --pack: the window being filled, its first document's name and how
	 * many documents it holds */
	int32_t *pk;
	int npk, pkdocs;
	char *pkname;
} win_writer;

/* ids: the vocabulary's sequence start, end and padding ids (pad must be
 * an id when windows can be short) */
void win_init(win_writer *w, const win_opts *o, const tok_ids *ids, win_write_fn write, void *ctx);
void win_free(win_writer *w);

/* 1 if a record called name belongs to the held-out (eval) set */
int win_is_eval(const char *name, uint64_t seed, double eval_frac);
/* 1 if the name belongs to the split chosen in o */
int win_in_split(const win_opts *o, const char *name);

/* Cuts the nt tokens of one chunk into windows and writes those that pass
 * --skip-n and the split.  ids/pos/len: token ids, their first byte in
 * bytes (nbytes long; N-counting uses it) and how many bytes they cover;
 * coordinates in names are offset + position.  Returns 0; 1 once
 * max_windows windows are written; -1 when write failed. */
int win_chunk(win_writer *w, const char *prefix, int64_t offset, const char *bytes, long nbytes,
              const int32_t *ids, const int32_t *pos, const int32_t *len, long nt);

/* With o.pack (RoBERTa's "full sentences"), each chunk is a document: the
 * split is drawn per document (by prefix, so a document is wholly train or
 * eval), and the documents of a split fill windows one after another, each
 * followed by the end token (<SEP>) as a separator, a document running on
 * into the next window where it does not fit; only the last window is
 * padded.  A window is named after its first document's piece,
 * "prefix:beg-end", with "+N" when N more documents start in it.
 * win_finish() writes the last, partial window (call it once, at the end;
 * it returns as win_chunk does; a no-op without o.pack). */
int win_finish(win_writer *w);

#endif
