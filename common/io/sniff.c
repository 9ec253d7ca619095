/* sniff.c -- what a non-stream input looks like (see sniff.h).
 *
 * The magic numbers and the order of the tests follow htslib's own format
 * detection (hts.c, hts_detect_format2(), htslib 1.23 lines 633-733): CRAM,
 * BAM, BCF, VCF and the SAM header tags first, then '>' FASTA and '@'
 * FASTQ, then a SAM record line of 11 tab-separated columns. */
#include "io/sniff.h"

#include <stdio.h>
#include <string.h>
#include "base/util.h"

static int starts(const unsigned char *p, size_t n, const char *magic, size_t k)
{
	return n >= k && memcmp(p, magic, k) == 0;
}

/* columns of the first line, to tell a headerless SAM from other text */
static int first_line_columns(const unsigned char *p, size_t n)
{
	int cols = 1;
	for (size_t i = 0; i < n && p[i] != '\n'; i++) cols += p[i] == '\t';
	return cols;
}

/* no control characters but white space, as htslib's is_text_only() (hts.c)
 * wants, \f added */
static int printable(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' && p[i] != '\f') return 0;
	return 1;
}

size_t sniff_not_text(const unsigned char *p, size_t n, int more, const char **what)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		if (c == 0) { *what = "a NUL byte"; return i + 1; }
		if (c < 0x80) { i++; continue; }
		/* RFC 3629: the length from the lead byte, then the range of the
		 * second byte that excludes overlong forms, surrogates and code
		 * points above U+10FFFF */
		size_t k;
		unsigned lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf) k = 2;
		else if (c >= 0xe0 && c <= 0xef) { k = 3; if (c == 0xe0) lo = 0xa0; if (c == 0xed) hi = 0x9f; }
		else if (c >= 0xf0 && c <= 0xf4) { k = 4; if (c == 0xf0) lo = 0x90; if (c == 0xf4) hi = 0x8f; }
		else { *what = "invalid UTF-8"; return i + 1; }
		for (size_t j = 1; j < k; j++) {
			if (i + j >= n) {
				if (more) return 0;     /* cut by the end of what was looked at */
				*what = "invalid UTF-8 (a character cut short)";
				return i + 1;
			}
			unsigned d = p[i + j];
			if (d < (j == 1 ? lo : 0x80) || d > (j == 1 ? hi : 0xbf)) { *what = "invalid UTF-8"; return i + 1; }
		}
		i += k;
	}
	return 0;
}

const char *sniff_kind(const unsigned char *p, size_t n)
{
	const char *why;
	if (n >= 6 && starts(p, n, "CRAM", 4) && p[4] >= 1 && p[4] <= 7 && p[5] <= 7) return "CRAM";
	if (starts(p, n, "BAM\1", 4)) return "BAM";
	if (starts(p, n, "BCF\2", 4) || starts(p, n, "BCF\4", 4)) return "BCF";
	if (starts(p, n, "##fileformat=VCF", 16)) return "VCF";
	if (starts(p, n, "@HD\t", 4) || starts(p, n, "@SQ\t", 4) || starts(p, n, "@RG\t", 4) ||
	    starts(p, n, "@PG\t", 4) || starts(p, n, "@CO\t", 4)) return "SAM";
	if (sniff_not_text(p, n, 1, &why) || !printable(p, n)) return NULL;
	if (n >= 1 && p[0] == '>') return "FASTA";
	if (n >= 1 && p[0] == '@') return "FASTQ";
	if (first_line_columns(p, n) >= 11) return "SAM";
	return n ? "text" : NULL;
}

/* the programs that read something other than seqtok's windows: the pipe
 * that feeds them goes through lmprobe */
static const char *between(const char *prog)
{
	if (strcmp(prog, "entropy") == 0) return "lmprobe MODEL.tns | ";
	if (strcmp(prog, "disagree") == 0) return "lmprobe M1.tns M2.tns | ";
	return "";
}

void sniff_hint(char *buf, size_t len, const char *path, const unsigned char *p, size_t n, int gz)
{
	const char *kind = sniff_kind(p, n), *file = path && strcmp(path, "-") != 0 ? path : "FILE";
	const char *gzs = gz && kind && strcmp(kind, "BAM") != 0 ? "gzip-compressed " : "";
	const char *other = NULL;
	if (!gz && starts(p, n, "BZh", 3)) other = "bzip2";
	else if (starts(p, n, "\xfd" "7zXZ", 5)) other = "xz";
	else if (starts(p, n, "\x28\xb5\x2f\xfd", 4)) other = "zstd";
	if (other) { snprintf(buf, len, "this looks like %s-compressed data", other); return; }
	if (!kind) { snprintf(buf, len, "%s", ""); return; }
	int seq = strcmp(kind, "FASTA") == 0 || strcmp(kind, "FASTQ") == 0 || strcmp(kind, "SAM") == 0 ||
	          strcmp(kind, "BAM") == 0 || strcmp(kind, "CRAM") == 0;
	int text = strcmp(kind, "text") == 0;
	/* seqtok reads a stream only for --vocab: a pipe into itself is no help */
	if ((!seq && !text) || strcmp(cli_prog, "seqtok") == 0) {
		snprintf(buf, len, "this looks like %s%s", gzs, kind);
		return;
	}
	snprintf(buf, len, "this looks like %s%s; tokenise it first: seqtok %s%s | %s%s ...", gzs, kind,
	         text ? "--text --char " : "", file, between(cli_prog), cli_prog);
}
