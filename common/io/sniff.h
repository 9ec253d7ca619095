/* sniff.h -- what an input that is not a tensor stream looks like (FASTA,
 * FASTQ, SAM, BAM, CRAM, text, compressed data) from its first bytes, so
 * that a program given a genome where it wants a stream can say what it
 * got and which command makes a stream of it, instead of "bad magic".
 * Also the text check seqtok --text makes (valid UTF-8, no NUL). */
#ifndef SEQLM_SNIFF_H
#define SEQLM_SNIFF_H

#include <stddef.h>

/* The kind of data in p[0..n): "FASTA", "FASTQ", "SAM", "BAM", "CRAM",
 * "BCF", "VCF", "text"; NULL when it is none of these (binary). */
const char *sniff_kind(const unsigned char *p, size_t n);

/* Why p[0..n) is not a tensor stream and what to do, into buf:
 * "this looks like FASTA; tokenise it first: seqtok x.fa | lmtrain ...".
 * gz: the bytes were gzip/BGZF-decompressed from path.  The command names
 * the running program (cli_prog); empty when nothing is recognised. */
void sniff_hint(char *buf, size_t len, const char *path, const unsigned char *p, size_t n, int gz);

/* 0 if p[0..n) is text: no NUL byte and valid UTF-8 (a multi-byte
 * character cut by the end of the buffer counts as valid, when more
 * follows: pass more = 1).  Otherwise the offset of the first bad byte
 * plus one, and why in *what ("a NUL byte", "invalid UTF-8"). */
size_t sniff_not_text(const unsigned char *p, size_t n, int more, const char **what);

#endif
