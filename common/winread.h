/* winread.h -- token windows (seqtok output) read in batches, for the
 * programs that run models over them (lmprobe, fisherflow).  Every window
 * must hold an i32 tensor "tokens" of one length T; errors end the program
 * with a message naming the file and the record. */
#ifndef SEQLM_WINREAD_H
#define SEQLM_WINREAD_H

#include <stdint.h>
#include "tns.h"
#include "vocab.h"

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
/* Loads a model file for these windows: its vocabulary must be the
 * stream's (same hash) and its positions must cover T.  Dies with a message
 * naming the model file otherwise.  h (optional) receives its header. */
#include "bert.h"
void winread_load_model(const winread *w, const char *path, bert_model *m, tns_header *h);

/* stdin copied to an unlinked temporary file, for several passes; returns
 * its descriptor (rewind with lseek before each winread_open) */
int winread_spool_stdin(void);

#endif
