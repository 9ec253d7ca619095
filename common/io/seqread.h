/* seqread.h -- sequences from FASTA, FASTQ, SAM, BAM or CRAM (plain, gzip
 * or BGZF), read in pieces so that memory does not grow with the length of
 * a record (a whole chromosome streams through a small buffer).
 *
 * FASTA and FASTQ are parsed here over BGZF (which also reads plain and
 * gzip files); SAM/BAM/CRAM go through htslib, one read at a time, and a
 * read on the reverse strand is reverse-complemented back to the strand it
 * was sequenced from, as `samtools fastq` does (secondary and supplementary
 * records are skipped, as there).  A region (chr:beg-end) needs an indexed
 * file: FASTA with .fai (and .gzi if bgzipped), BAM/CRAM with an index.
 * Bases come out normalised (io/dna.h): upper-case ACGT, anything
 * else N.  Text mode hands out raw lines or paragraphs instead. */
#ifndef SEQLM_SEQREAD_H
#define SEQLM_SEQREAD_H

#include <stdint.h>

typedef struct seqread seqread;

typedef struct {
	const char *region;           /* NULL: everything */
	const char *reference;        /* CRAM reference FASTA, NULL: none */
	int threads;                  /* BGZF decompression threads */
	int text;                     /* text mode: documents instead of sequences */
	int para;                     /* text: a document is a blank-line paragraph */
	int binary_ok;                /* text: take data that is not UTF-8 text */
} seqread_opts;

/* path "-" is stdin.  NULL and a message in err on failure. */
seqread *seqread_open(const char *path, const seqread_opts *o, char *err, size_t errlen);
/* the next record (sequence, read or document): 1, with its name in *name
 * (valid until the next call); 0 at the end; -1 on error (seqread_error) */
int seqread_next(seqread *r, const char **name);
/* up to n bases of the current record into buf; 0 at its end; -1 error.
 * In text mode, up to n bytes of the document. */
long seqread_bases(seqread *r, char *buf, long n);
/* coordinate of the record's first base (the region start, else 0) */
int64_t seqread_offset(const seqread *r);
/* text mode: line number (from 1) where the current document starts */
int64_t seqread_line(const seqread *r);
const char *seqread_error(const seqread *r);
const char *seqread_format(const seqread *r);   /* "FASTA", "BAM", ... */
void seqread_close(seqread *r);

#endif
