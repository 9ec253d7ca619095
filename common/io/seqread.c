/* seqread.c -- streaming sequence input (see seqread.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <htslib/bgzf.h>
#include <htslib/faidx.h>
#include <htslib/hfile.h>
#include <htslib/hts.h>
#include <htslib/sam.h>
#include "base/util.h"
#include "io/dna.h"
#include "io/seqread.h"
#include "io/sniff.h"

enum { SR_FASTA, SR_FASTQ, SR_SAM, SR_FAI, SR_TEXT };
enum { BUFSZ = 1 << 20, FAI_PIECE = 1 << 20 };

typedef struct { char *s; long n, m; } sbuf;

static void sb_put(sbuf *b, const char *s, long n)
{
	if (b->n + n + 1 > b->m) {
		b->m = (b->n + n + 1) * 2;
		b->s = xrealloc(b->s, b->m);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

struct seqread {
	int kind;
	const char *fmt;
	char *path;
	seqread_opts o;
	/* FASTA, FASTQ, text: our own parser over BGZF (plain, gzip or BGZF) */
	BGZF *bgzf;                   /* gzip or BGZF input */
	hFILE *hf;                    /* uncompressed input, read directly */
	char *buf;
	long bpos, blen;
	int eof, at_line_start;
	int64_t lineno;               /* lines consumed so far */
	int64_t nrec;                 /* FASTA/FASTQ records started so far */
	/* the current record */
	sbuf name, doc;
	int in_rec, rec_done;
	int64_t nbases, offset, doc_line;
	long dpos;
	/* SAM, BAM, CRAM */
	htsFile *hts;
	sam_hdr_t *hdr;
	bam1_t *b;
	hts_idx_t *idx;
	hts_itr_t *itr;
	/* region of an indexed FASTA */
	faidx_t *fai;
	int64_t fbeg, fend, fpos;
	int fai_done;
	char err[512];
};

static int fail(seqread *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(seqread *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	return -1;
}

const char *seqread_error(const seqread *r) { return r->err; }
const char *seqread_format(const seqread *r) { return r->fmt; }
int64_t seqread_offset(const seqread *r) { return r->offset; }
int64_t seqread_line(const seqread *r) { return r->doc_line; }

/* ---- the byte buffer ------------------------------------------------------ */

/* 1: bytes are available at buf[bpos]; 0: end of input; -1: error */
static int fill(seqread *r)
{
	if (r->bpos < r->blen) return 1;
	if (r->eof) return 0;
	/* hread of a large block goes straight into buf: one copy fewer */
	ssize_t n = r->bgzf ? bgzf_read(r->bgzf, r->buf, BUFSZ) : hread(r->hf, r->buf, BUFSZ);
	if (n < 0) return fail(r, "read error: %s", r->bgzf ? "truncated or corrupt compressed data" : strerror(errno));
	r->bpos = 0;
	r->blen = n;
	if (n == 0) { r->eof = 1; return 0; }
	return 1;
}

/* appends the rest of the line to sb (if not NULL) and consumes its '\n';
 * 1 if a line was there, 0 at end of input, -1 on error */
static int read_line(seqread *r, sbuf *sb)
{
	int got = 0, rc;
	while ((rc = fill(r)) > 0) {
		char *p = r->buf + r->bpos, *e = memchr(p, '\n', r->blen - r->bpos);
		long k = e ? e - p : r->blen - r->bpos;
		if (sb) sb_put(sb, p, k);
		got = 1;
		r->bpos += k;
		if (e) { r->bpos++; r->lineno++; r->at_line_start = 1; return 1; }
	}
	if (rc < 0) return -1;
	if (got) r->lineno++;
	r->at_line_start = 1;
	return got;
}

static void chomp(sbuf *sb)
{
	while (sb->n > 0 && (sb->s[sb->n - 1] == '\r' || sb->s[sb->n - 1] == '\n')) sb->s[--sb->n] = 0;
}

/* The record name, as htslib's FASTA/FASTQ indexer reads it (faidx.c,
 * fai_build_core(), htslib 1.23 lines 203-211): white space after the '>'
 * or '@' is skipped, the name runs to the next white space (isspace: space,
 * \t, \v, \f, \r).  So ">  chr1 x" is chr1, as in `samtools faidx` and in
 * the names -r gives.  (kseq.h and htslib's sam.c FASTA reader stop at the
 * first space instead: an empty name.)  A header with no name at all gets
 * "unnamed<N>", N its record number in the file: distinct names, so that
 * the split by name does not put every such record on one side. */
static void cut_name(sbuf *sb, int64_t recno)
{
	long i = 0, b;
	while (i < sb->n && isspace((unsigned char)sb->s[i])) i++;
	for (b = i; i < sb->n && !isspace((unsigned char)sb->s[i]); i++) {}
	memmove(sb->s, sb->s + b, i - b);
	sb->n = i - b;
	sb->s[sb->n] = 0;
	if (sb->n == 0) {
		char nm[32];
		int k = snprintf(nm, sizeof nm, "unnamed%lld", (long long)recno);
		sb_put(sb, nm, k);
	}
}

/* ---- FASTA and FASTQ -------------------------------------------------------- */

/* bases of a FASTQ record: lines until one starting with '+' */
static long fastq_bases(seqread *r, char *out, long n)
{
	long o = 0;
	int rc = 0;
	if (r->rec_done) return 0;
	while (o < n && (rc = fill(r)) > 0) {
		char *p = r->buf + r->bpos;
		if (r->at_line_start) {
			if (*p == '+') { r->rec_done = 1; break; }
			r->at_line_start = 0;
		}
		long take = r->blen - r->bpos;
		if (take > n - o) take = n - o;
		char *e = memchr(p, '\n', take);
		long k = e ? e - p : take;
		o += dna_normalise(p, k, out + o);
		r->bpos += k;
		if (e) { r->bpos++; r->lineno++; r->at_line_start = 1; }
	}
	if (rc < 0) return -1;
	if (rc == 0) r->rec_done = 1;
	r->nbases += o;
	return o;
}

/* bases of a FASTA record: everything up to a '>' that starts a line, in
 * blocks (new lines are dropped by the normalisation), not line by line:
 * the per-line work was a large part of the time on 60-column genomes */
static long fasta_bases(seqread *r, char *out, long n)
{
	long o = 0;
	int rc = 0;
	if (r->rec_done) return 0;
	while (o < n && (rc = fill(r)) > 0) {
		char *p = r->buf + r->bpos;
		if (r->at_line_start && *p == '>') { r->rec_done = 1; break; }
		long take = r->blen - r->bpos;
		if (take > n - o) take = n - o;
		char *g = memchr(p, '>', take);
		long k = take;
		if (g) k = g > p && g[-1] == '\n' ? g - p : g - p + 1;   /* a '>' inside a line is an N */
		o += dna_normalise(p, k, out + o);
		r->bpos += k;
		r->at_line_start = p[k - 1] == '\n';
	}
	if (rc < 0) return -1;
	if (rc == 0) r->rec_done = 1;
	return o;
}

static int drain(seqread *r)
{
	char tmp[4096];
	long k;
	while ((k = seqread_bases(r, tmp, sizeof tmp)) > 0) {}
	return k < 0 ? -1 : 0;
}

/* after the sequence of a FASTQ record: the '+' line and as many quality
 * bytes as there were bases */
static int fastq_skip_quality(seqread *r)
{
	int rc = fill(r);
	if (rc < 0) return -1;
	if (rc == 0 || r->buf[r->bpos] != '+')
		return fail(r, "FASTQ record '%s' has no '+' line (truncated or not FASTQ)", r->name.s);
	if (read_line(r, NULL) < 0) return -1;
	int64_t q = 0;
	while (q < r->nbases) {
		if ((rc = fill(r)) <= 0) {
			if (rc < 0) return -1;
			return fail(r, "FASTQ record '%s' is truncated: %lld quality values for %lld bases",
			            r->name.s, (long long)q, (long long)r->nbases);
		}
		char *p = r->buf + r->bpos;
		long k = r->blen - r->bpos;
		for (long i = 0; i < k && q < r->nbases; i++, r->bpos++) {
			if (p[i] == '\n') { r->lineno++; continue; }
			if (p[i] != '\r') q++;
		}
	}
	/* the end of the last quality line */
	while ((rc = fill(r)) > 0 && (r->buf[r->bpos] == '\r' || r->buf[r->bpos] == '\n')) {
		if (r->buf[r->bpos] == '\n') r->lineno++;
		r->bpos++;
	}
	r->at_line_start = 1;
	return rc < 0 ? -1 : 0;
}

static int fastx_next(seqread *r, const char **name)
{
	char mark = r->kind == SR_FASTA ? '>' : '@';
	if (r->in_rec) {
		if (!r->rec_done && drain(r) < 0) return -1;
		if (r->kind == SR_FASTQ && fastq_skip_quality(r) < 0) return -1;
	}
	r->in_rec = 0;
	/* blank lines between records are allowed */
	int rc;
	while ((rc = fill(r)) > 0 && (r->buf[r->bpos] == '\n' || r->buf[r->bpos] == '\r'))
		if (read_line(r, NULL) < 0) return -1;
	if (rc <= 0) return rc;
	if (r->buf[r->bpos] != mark)
		return fail(r, "line %lld: expected '%c' at the start of a %s record",
		            (long long)r->lineno + 1, mark, r->fmt);
	r->bpos++;
	r->name.n = 0;
	sb_put(&r->name, "", 0);
	if (read_line(r, &r->name) < 0) return -1;
	cut_name(&r->name, ++r->nrec);
	r->in_rec = 1;
	r->rec_done = 0;
	r->nbases = 0;
	*name = r->name.s;
	return 1;
}

/* ---- text documents --------------------------------------------------------- */

static int blank(const sbuf *sb, long from)
{
	for (long i = from; i < sb->n; i++)
		if (sb->s[i] != ' ' && sb->s[i] != '\t' && sb->s[i] != '\r') return 0;
	return 1;
}

static int text_next(seqread *r, const char **name)
{
	int rc;
	r->doc.n = 0;
	sb_put(&r->doc, "", 0);
	/* skip blank lines, then one line or a paragraph */
	for (;;) {
		r->doc.n = 0;
		if ((rc = read_line(r, &r->doc)) <= 0) return rc;
		if (!blank(&r->doc, 0)) break;
	}
	r->doc_line = r->lineno;
	chomp(&r->doc);
	while (r->o.para) {
		long mark = r->doc.n;
		sb_put(&r->doc, "\n", 1);
		if ((rc = read_line(r, &r->doc)) < 0) return -1;
		if (rc == 0 || blank(&r->doc, mark + 1)) { r->doc.n = mark; r->doc.s[mark] = 0; break; }
		chomp(&r->doc);
	}
	r->dpos = 0;
	*name = r->path;
	return 1;
}

/* ---- SAM, BAM, CRAM ----------------------------------------------------------- */

static inline char complement(char c)
{
	return c == 'A' ? 'T' : c == 'C' ? 'G' : c == 'G' ? 'C' : c == 'T' ? 'A' : 'N';
}

static int sam_next(seqread *r, const char **name)
{
	for (;;) {
		int rc = r->itr ? sam_itr_next(r->hts, r->itr, r->b) : sam_read1(r->hts, r->hdr, r->b);
		if (rc == -1) return 0;
		if (rc < -1) {
			if (r->hts->format.format == cram)
				return fail(r, "cannot decode a CRAM record: it needs its reference (give it with "
				               "--reference FILE or REF_PATH), or the file is truncated or corrupt");
			return fail(r, "corrupt or truncated %s record", r->fmt);
		}
		bam1_t *b = r->b;
		if (b->core.flag & (BAM_FSECONDARY | BAM_FSUPPLEMENTARY)) continue;
		int n = b->core.l_qseq;
		if (n <= 0) continue;
		const uint8_t *s = bam_get_seq(b);
		r->doc.n = 0;
		sb_put(&r->doc, "", 0);
		if (r->doc.m < n + 1) { r->doc.m = n + 1; r->doc.s = xrealloc(r->doc.s, r->doc.m); }
		char *o = r->doc.s;
		for (int i = 0; i < n; i++) o[i] = (char)dna_norm[(unsigned char)seq_nt16_str[bam_seqi(s, i)]];
		if (b->core.flag & BAM_FREVERSE) {
			for (int i = 0, j = n - 1; i <= j; i++, j--) {
				char x = o[i], y = o[j];
				o[i] = complement(y);
				o[j] = complement(x);
			}
		}
		r->doc.n = n;
		r->dpos = 0;
		r->name.n = 0;
		sb_put(&r->name, bam_get_qname(b), strlen(bam_get_qname(b)));
		if ((b->core.flag & BAM_FPAIRED) && (b->core.flag & (BAM_FREAD1 | BAM_FREAD2)))
			sb_put(&r->name, b->core.flag & BAM_FREAD1 ? "/1" : "/2", 2);
		*name = r->name.s;
		return 1;
	}
}

static long doc_bases(seqread *r, char *out, long n)
{
	long k = r->doc.n - r->dpos;
	if (k > n) k = n;
	memcpy(out, r->doc.s + r->dpos, k);
	r->dpos += k;
	return k;
}

/* ---- a region of an indexed FASTA ------------------------------------------- */

static int fai_next(seqread *r, const char **name)
{
	if (r->fai_done) return 0;
	r->fai_done = 1;
	*name = r->name.s;
	return 1;
}

static long fai_bases(seqread *r, char *out, long n)
{
	long o = 0;
	while (o < n) {
		if (r->dpos == r->doc.n) {
			if (r->fpos >= r->fend) break;
			int64_t e = r->fpos + FAI_PIECE < r->fend ? r->fpos + FAI_PIECE : r->fend;
			hts_pos_t len = 0;
			char *s = faidx_fetch_seq64(r->fai, r->name.s, r->fpos, e - 1, &len);
			if (!s || len != e - r->fpos) { free(s); return fail(r, "cannot read %s:%lld-%lld", r->name.s, (long long)r->fpos + 1, (long long)e); }
			r->doc.n = 0;
			sb_put(&r->doc, s, len);
			free(s);
			r->doc.n = dna_normalise(r->doc.s, len, r->doc.s);
			r->dpos = 0;
			r->fpos = e;
		}
		o += doc_bases(r, out + o, n - o);
	}
	return o;
}

/* ---- opening ------------------------------------------------------------------ */

static int open_fai(seqread *r)
{
	if (strcmp(r->path, "-") == 0) return fail(r, "a region needs an indexed file, not standard input");
	r->fai = fai_load3(r->path, NULL, NULL, FAI_CREATE);
	if (!r->fai) return fail(r, "cannot load or build the FASTA index (a region needs plain or bgzipped FASTA)");
	int tid;
	hts_pos_t beg, end;
	if (!fai_parse_region(r->fai, r->o.region, &tid, &beg, &end, 0) || tid < 0)
		return fail(r, "region '%s' is not in the index", r->o.region);
	const char *nm = faidx_iseq(r->fai, tid);
	hts_pos_t len = faidx_seq_len(r->fai, nm);
	if (end > len) end = len;
	if (beg >= end) return fail(r, "region '%s' is empty", r->o.region);
	sb_put(&r->name, nm, strlen(nm));
	r->fbeg = r->fpos = beg;
	r->fend = end;
	r->offset = beg;
	r->kind = SR_FAI;
	return 0;
}

static int open_sam(seqread *r, hFILE *hf)
{
	r->hts = hts_hopen(hf, r->path, "r");
	if (!r->hts) { hclose_abruptly(hf); return fail(r, "cannot open as %s", r->fmt); }
	if (r->o.threads > 1) hts_set_threads(r->hts, r->o.threads);
	if (r->hts->format.format == cram) {
		if (r->o.reference && hts_set_fai_filename(r->hts, r->o.reference) < 0)
			return fail(r, "cannot use reference %s", r->o.reference);
		hts_set_opt(r->hts, CRAM_OPT_REQUIRED_FIELDS, SAM_QNAME | SAM_FLAG | SAM_SEQ);
		hts_set_opt(r->hts, CRAM_OPT_DECODE_MD, 0);
	}
	r->hdr = sam_hdr_read(r->hts);
	if (!r->hdr) return fail(r, "cannot read the %s header", r->fmt);
	r->b = bam_init1();
	if (r->o.region) {
		if (strcmp(r->path, "-") == 0) return fail(r, "a region needs an indexed file, not standard input");
		r->idx = sam_index_load(r->hts, r->path);
		if (!r->idx) return fail(r, "a region needs an index (samtools index)");
		r->itr = sam_itr_querys(r->idx, r->hdr, r->o.region);
		if (!r->itr) return fail(r, "cannot parse region '%s'", r->o.region);
	}
	r->kind = SR_SAM;
	return 0;
}

/* --text: refuse binary data (an image, an archive, random bytes) rather
 * than tokenise it byte by byte: a NUL byte or invalid UTF-8 in the first
 * 64 KiB (decompressed) is binary.  Reads ahead into the buffer only. */
static int check_text(seqread *r)
{
	enum { LOOK = 64 << 10 };
	int rc = fill(r);
	if (rc <= 0) return rc;
	const char *what;
	long n = r->blen < LOOK ? r->blen : LOOK;
	size_t bad = sniff_not_text((const unsigned char *)r->buf, (size_t)n, r->blen > n, &what);
	if (!bad) return 0;
	return fail(r, "not text: %s at byte %zu (binary data?); --binary-ok tokenises it anyway", what, bad - 1);
}

seqread *seqread_open(const char *path, const seqread_opts *o, char *err, size_t errlen)
{
	seqread *r = xcalloc(1, sizeof *r);
	r->path = xstrdup(path ? path : "-");
	r->o = *o;
	r->at_line_start = 1;
	int rc = -1;
	hFILE *hf = hopen(r->path, "r");
	if (!hf) { fail(r, "cannot open: %s", strerror(errno)); goto done; }
	htsFormat f;
	if (hts_detect_format2(hf, r->path, &f) < 0) {
		hclose_abruptly(hf);
		fail(r, "cannot read: %s", strerror(errno));
		goto done;
	}
	if (f.format == empty_format) { hclose_abruptly(hf); fail(r, "empty file"); goto done; }
	if (f.format == text_format && f.compression == no_compression && !o->text) {
		/* htslib wants a sequence line to call it FASTA; a file of headers
		 * only is FASTA without sequence, and should be reported as that */
		char c;
		if (hpeek(hf, &c, 1) == 1 && (c == '>' || c == '@')) f.format = c == '>' ? fasta_format : fastq_format;
	}
	int plainish = f.compression == no_compression || f.compression == gzip || f.compression == bgzf;
	if (o->text) {
		r->fmt = "text";
		if (!plainish || f.format == bam || f.format == cram || f.format == bcf || f.format == binary_format) {
			hclose_abruptly(hf);
			fail(r, "not a text file (detected %s)", hts_format_file_extension(&f));
			goto done;
		}
		r->kind = SR_TEXT;
	} else if (f.format == fasta_format || f.format == fastq_format) {
		r->fmt = f.format == fasta_format ? "FASTA" : "FASTQ";
		r->kind = f.format == fasta_format ? SR_FASTA : SR_FASTQ;
		if (o->region) {
			if (f.format != fasta_format) { hclose_abruptly(hf); fail(r, "a region needs an indexed FASTA, BAM or CRAM"); goto done; }
			hclose_abruptly(hf);
			rc = open_fai(r);
			goto done;
		}
	} else if (f.format == sam || f.format == bam || f.format == cram) {
		r->fmt = f.format == sam ? "SAM" : f.format == bam ? "BAM" : "CRAM";
		rc = open_sam(r, hf);
		goto done;
	} else {
		hclose_abruptly(hf);
		char *desc = hts_format_description(&f);   /* malloc'd: ours to free */
		fail(r, "not a sequence file (FASTA, FASTQ, SAM, BAM or CRAM; detected %s)%s",
		     f.format == text_format ? "text" : f.format == unknown_format ? "unknown data" : desc ? desc : "another format",
		     f.format == text_format ? ": for text, use --text (with --char or a BPE --vocab)" : "");
		free(desc);
		goto done;
	}
	if (!plainish) { hclose_abruptly(hf); fail(r, "unsupported compression (use gzip or bgzip)"); goto done; }
	if (f.compression == no_compression) {
		r->hf = hf;
		r->buf = xmalloc(BUFSZ);
		rc = 0;
		goto done;
	}
	r->bgzf = bgzf_hopen(hf, "r");
	if (!r->bgzf) { hclose_abruptly(hf); fail(r, "cannot open: %s", strerror(errno)); goto done; }
	if (f.compression == bgzf) {
		/* a BGZF file cut at a block boundary decompresses cleanly: only the
		 * missing end-of-file block tells (checkable when seekable) */
		if (bgzf_check_EOF(r->bgzf) == 0) { fail(r, "truncated BGZF file (no end-of-file marker)"); goto done; }
		if (o->threads > 1) bgzf_mt(r->bgzf, o->threads, 64);
	}
	r->buf = xmalloc(BUFSZ);
	rc = 0;
done:
	if (rc == 0 && r->kind == SR_TEXT && !o->binary_ok) rc = check_text(r);
	if (rc < 0) {
		snprintf(err, errlen, "%s", r->err);
		seqread_close(r);
		return NULL;
	}
	return r;
}

int seqread_next(seqread *r, const char **name)
{
	switch (r->kind) {
	case SR_FASTA: case SR_FASTQ: return fastx_next(r, name);
	case SR_TEXT: return text_next(r, name);
	case SR_SAM: return sam_next(r, name);
	default: return fai_next(r, name);
	}
}

long seqread_bases(seqread *r, char *buf, long n)
{
	switch (r->kind) {
	case SR_FASTA: return fasta_bases(r, buf, n);
	case SR_FASTQ: return fastq_bases(r, buf, n);
	case SR_FAI: return fai_bases(r, buf, n);
	default: return doc_bases(r, buf, n);
	}
}

void seqread_close(seqread *r)
{
	if (!r) return;
	if (r->bgzf) bgzf_close(r->bgzf);
	if (r->hf) hclose_abruptly(r->hf);
	if (r->itr) hts_itr_destroy(r->itr);
	if (r->idx) hts_idx_destroy(r->idx);
	if (r->b) bam_destroy1(r->b);
	if (r->hdr) sam_hdr_destroy(r->hdr);
	if (r->hts) hts_close(r->hts);
	if (r->fai) fai_destroy(r->fai);
	free(r->buf); free(r->name.s); free(r->doc.s); free(r->path);
	free(r);
}
