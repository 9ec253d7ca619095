/* winread.h -- token windows (seqtok output) read in batches, for the
 * programs that run models over them (lmtrain, lmprobe, fisherflow).  Every
 * window must hold an i32 tensor "tokens" of one length T, each id inside
 * the stream's vocabulary.  Library code: a function that fails returns -1
 * and fills a winread_err (the file to name, the message, whether it is a
 * usage error); the tool decides to end, with winread_die(). */
#ifndef SEQLM_WINREAD_H
#define SEQLM_WINREAD_H

#include <stdint.h>
#include "io/tns.h"
#include "tok/vocab.h"

/* what went wrong: prog: error: FILE: MSG (exit 1), or a usage error
 * prog: MSG (exit 2) */
typedef struct {
	const char *file;             /* a path the caller passed or w->path */
	char msg[1024];
	int usage;
} winread_err;

/* ends the program with e's message (for tools) */
void winread_die(const winread_err *e) __attribute__((noreturn));

typedef struct {
	tns_reader *r;
	char *path;
	int T;                        /* window length, from the first record */
	int cap;                      /* windows per batch */
	int n;                        /* windows in the current batch */
	int32_t *tok;                 /* [cap * T] */
	char **name;                  /* [cap] record names (in rec) */
	tns_record *rec;              /* [cap] the whole records, copied */
	long total;                   /* windows read so far */
	tok_vocab vocab;              /* the stream's tokenizer */
	int peeked;                   /* the first record is already in tok[0] */
	int shard_k, shard_n, shard_block;   /* winread_shard(); shard_n 0: every window */
	long seen;                    /* windows of the stream read, in the shard or not */
} winread;

/* Opens path ("-" stdin) or, if fd >= 0, that descriptor (taken over),
 * reads its vocabulary and its first window (T is then known).  0 or -1;
 * on failure w holds nothing to close. */
int winread_open(winread *w, const char *path, int fd, int cap, winread_err *e);
/* the same but for the first window: T is 0 until winread_next reads it
 * (lmtrain: the input's record errors come after its option checks) */
int winread_open_header(winread *w, const char *path, int fd, int cap, winread_err *e);
/* more windows per batch (before the first winread_next) */
void winread_grow(winread *w, int cap);
/* From now on only the windows of shard k of n (1 <= k <= n): blocks of
 * `block` consecutive windows of the stream dealt out in turn, block b to
 * shard b mod n + 1, so a shard's windows are whole blocks in stream order
 * (tnsview --cat deals them back).  Call before the first winread_next. */
void winread_shard(winread *w, int k, int n, int block);
/* the next batch: returns the number of windows (0 at the verified end),
 * -1 on a read error or a bad window (e names w->path) */
int winread_next(winread *w, winread_err *e);
void winread_close(winread *w);
#include "model/bert.h"
/* What a model file says about itself, read from its header alone. */
typedef struct {
	const char *path;
	bert_config c;
	uint64_t vocab_hash;
} winread_model;
/* Checks the model files before the stream is touched, so that a missing
 * or wrong model is named as such (and not as an empty stdin): each opens,
 * is a BERT model and has a tokenizer; a path that does not exist but reads
 * as a number gets the hint --mask-prob (-q was the mask probability once);
 * a path with a tab or newline cannot be a TSV's model name (both usage
 * errors).  mi[n] receives the headers' facts.  0 or -1. */
int winread_check_model_files(char **paths, int n, winread_model *mi, winread_err *e);
/* A model against these windows: its vocabulary must be the stream's (same
 * hash) and its positions must cover T (else the message names the seqtok
 * -T that fits).  0, or -1 naming the model file. */
int winread_check_model(const winread *w, const winread_model *mi, winread_err *e);
/* Loads a model file whole (parameters, checksums, end frame), before or
 * without windows.  h and mi (optional) receive its header and what it
 * says.  0, or -1 naming it (nothing to free). */
int winread_read_model(const char *path, bert_model *m, tns_header *h, winread_model *mi, winread_err *e);
/* Loads a model file for these windows (checked as above).  h (optional)
 * receives its header.  0 or -1 (nothing to free). */
int winread_load_model(const winread *w, const char *path, bert_model *m, tns_header *h, winread_err *e);

/* stdin copied to an unlinked temporary file, for several passes; returns
 * its descriptor (rewind with lseek before each winread_open), -1 on error */
int winread_spool_stdin(winread_err *e);

#endif
