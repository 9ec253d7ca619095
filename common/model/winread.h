/* winread.h -- token windows (seqtok output) read in batches, for the
 * programs that run models over them (lmprobe, fisherflow).  Every window
 * must hold an i32 tensor "tokens" of one length T; errors end the program
 * with a message naming the file and the record. */
#ifndef SEQLM_WINREAD_H
#define SEQLM_WINREAD_H

#include <stdint.h>
#include "io/tns.h"
#include "tok/vocab.h"

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

/* opens path ("-" stdin) or, if fd >= 0, that descriptor (taken over) */
void winread_open(winread *w, const char *path, int fd, int cap);
/* more windows per batch (before the first winread_next) */
void winread_grow(winread *w, int cap);
/* From now on only the windows of shard k of n (1 <= k <= n): blocks of
 * `block` consecutive windows of the stream dealt out in turn, block b to
 * shard b mod n + 1, so a shard's windows are whole blocks in stream order
 * (tnsview --cat deals them back).  Call before the first winread_next. */
void winread_shard(winread *w, int k, int n, int block);
/* the next batch: returns the number of windows (0 at the verified end) */
int winread_next(winread *w);
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
 * a path with a tab or newline cannot be a TSV's model name.  Dies naming
 * the file.  mi[n] receives the headers' facts. */
void winread_check_model_files(char **paths, int n, winread_model *mi);
/* A model against these windows: its vocabulary must be the stream's (same
 * hash) and its positions must cover T (else the message names the seqtok
 * -T that fits).  Dies naming the model file. */
void winread_check_model(const winread *w, const winread_model *mi);
/* Loads a model file whole (parameters, checksums, end frame), before or
 * without windows; dies naming it.  h and mi (optional) receive its header
 * and what it says. */
void winread_read_model(const char *path, bert_model *m, tns_header *h, winread_model *mi);
/* Loads a model file for these windows (checked as above).  h (optional)
 * receives its header. */
void winread_load_model(const winread *w, const char *path, bert_model *m, tns_header *h);

/* stdin copied to an unlinked temporary file, for several passes; returns
 * its descriptor (rewind with lseek before each winread_open) */
int winread_spool_stdin(void);

#endif
