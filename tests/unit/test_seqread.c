/* test_seqread.c -- sequences and documents from files (seqread.h): names,
 * normalised bases, a record read in small pieces, FASTQ, a region of an
 * indexed FASTA, BAM, text lines and paragraphs, and the errors a caller
 * gets back (seqread returns them; the tool words and prints them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/seqread.h"
#include "tap.h"
#include "scratch.h"

static const char *data = "tests/data/seqtok";

static const char *put(const char *name, const char *text)
{
	const char *p = scratch_path(name);
	FILE *fp = fopen(p, "wb");
	if (fp) { fputs(text, fp); fclose(fp); }
	return p;
}

/* every record as "name=bases;" read with pieces of `piece` bytes; NULL on
 * an error (message in err) */
static char *slurp(const char *path, const seqread_opts *o, long piece, char *err, size_t elen)
{
	seqread *r = seqread_open(path, o, err, elen);
	if (!r) return NULL;
	size_t cap = 1 << 16, n = 0;
	char *out = malloc(cap), *buf = malloc(piece);
	const char *name;
	int rc;
	while ((rc = seqread_next(r, &name)) == 1) {
		n += snprintf(out + n, cap - n, "%s=", name);
		long k;
		while ((k = seqread_bases(r, buf, piece)) > 0) {
			if (n + k + 2 > cap) out = realloc(out, cap = 2 * (n + k + 2));
			memcpy(out + n, buf, k), n += k;
		}
		if (k < 0) { rc = -1; break; }
		out[n++] = ';';
		out[n] = 0;
	}
	if (rc < 0) { snprintf(err, elen, "%s", seqread_error(r)); free(out); out = NULL; }
	else out[n] = 0;
	free(buf);
	seqread_close(r);
	return out;
}

static void test_fasta(void)
{
	seqread_opts o = {0};
	char err[512];
	const char *fa = put("a.fa", ">one first record\nacgtU\nRYN-\n\n>two\nAC GT\r\nTTTT\n>empty\n");
	for (long piece = 1; piece <= 64; piece *= 4) {
		char *s = slurp(fa, &o, piece, err, sizeof err);
		ok(s && strcmp(s, "one=ACGTTNNNN;two=ACGTTTTT;empty=;") == 0,
		   "FASTA in pieces of %ld: names to the first space, bases normalised, line breaks dropped", piece);
		if (s && strcmp(s, "one=ACGTTNNNN;two=ACGTTTTT;empty=;") != 0) diag("got %s", s);
		free(s);
	}
	seqread *r = seqread_open(fa, &o, err, sizeof err);
	ok(r && strcmp(seqread_format(r), "FASTA") == 0, "the format is named FASTA");
	seqread_close(r);
}

static void test_fastq(void)
{
	seqread_opts o = {0};
	char err[512];
	char *s = slurp(put("r.fq", "@r1 x\nACGn\n+\nIIII\n@r2\nTT\n+r2\n##\n"), &o, 3, err, sizeof err);
	ok(s && strcmp(s, "r1=ACGN;r2=TT;") == 0, "FASTQ: names and bases, qualities skipped");
	free(s);
	s = slurp(put("t.fq", "@r1\nACGT\n+\nII\n"), &o, 8, err, sizeof err);
	ok(!s && strstr(err, "FASTQ record 'r1' is truncated: 2 quality values for 4 bases"), "FASTQ: short qualities are an error");
	if (s || !strstr(err, "truncated")) diag("got %s", s ? s : err);
	free(s);
	s = slurp(put("n.fq", "@r1\nACGT\n"), &o, 8, err, sizeof err);
	ok(!s && strstr(err, "FASTQ record 'r1' has no '+' line"), "FASTQ: a record without '+' is an error");
	free(s);
}

static void test_indexed(void)
{
	seqread_opts o = {0};
	char err[512], p[300], q[300];
	snprintf(p, sizeof p, "%s/ref.fa", data);
	o.region = "short";
	char *s = slurp(p, &o, 7, err, sizeof err);
	seqread *r;
	ok(s && strncmp(s, "short=", 6) == 0 && strlen(s) == 6 + 3 + 1, "a region of an indexed FASTA: the 3 bases of 'short'");
	free(s);
	o.region = "iupac_mix:11-20";
	r = seqread_open(p, &o, err, sizeof err);
	const char *name;
	char buf[64];
	long k = r && seqread_next(r, &name) == 1 ? seqread_bases(r, buf, sizeof buf) : -1;
	ok(k == 10 && seqread_offset(r) == 10, "region iupac_mix:11-20: 10 bases from offset 10");
	seqread_close(r);
	o.region = "nosuch";
	s = slurp(p, &o, 7, err, sizeof err);
	ok(!s && strstr(err, "region 'nosuch' is not in the index"), "an unknown region is an error naming it");
	free(s);
	o.region = NULL;
	snprintf(q, sizeof q, "%s/reads.bam", data);
	r = seqread_open(q, &o, err, sizeof err);
	int n = 0;
	while (r && seqread_next(r, &name) == 1) n++;
	ok(r && strcmp(seqread_format(r), "BAM") == 0 && n > 0, "BAM: %d reads", n);
	seqread_close(r);
}

static void test_text(void)
{
	seqread_opts o = {0};
	char err[512];
	o.text = 1;
	const char *t = put("b.txt", "first line\nsecond\n\nthird para\n");
	seqread *r = seqread_open(t, &o, err, sizeof err);
	const char *name;
	char buf[64];
	int n = 0, lines_ok = 1;
	long k;
	while (r && seqread_next(r, &name) == 1) {
		n++;
		k = seqread_bases(r, buf, sizeof buf);
		if (n == 1) lines_ok &= k == 10 && memcmp(buf, "first line", 10) == 0 && seqread_line(r) == 1;
		if (n == 3) lines_ok &= seqread_line(r) == 4 || seqread_line(r) == 3;
	}
	ok(r && lines_ok && n >= 3, "text: one document per line, raw bytes, line numbers (%d documents)", n);
	seqread_close(r);
	o.para = 1;
	r = seqread_open(t, &o, err, sizeof err);
	n = 0;
	while (r && seqread_next(r, &name) == 1) n++;
	ok(n == 2, "text --para: two paragraphs");
	seqread_close(r);
	o.para = 0;
	char *s = slurp(put("bin.txt", "ab\377\376cd\n"), &o, 16, err, sizeof err);
	ok(!s && strstr(err, "not text: invalid UTF-8 at byte 2") && strstr(err, "--binary-ok"), "text: invalid UTF-8 is refused, naming the byte");
	if (s || !strstr(err, "--binary-ok")) diag("got %s", s ? s : err);
	free(s);
	o.binary_ok = 1;
	s = slurp(put("bin2.txt", "ab\377\376cd\n"), &o, 16, err, sizeof err);
	ok(s != NULL, "text --binary-ok: taken");
	free(s);
}

static void test_errors(void)
{
	seqread_opts o = {0};
	char err[512];
	ok(!seqread_open(scratch_path("none.fa"), &o, err, sizeof err) && strstr(err, "cannot open: No such file or directory"),
	   "a missing file: NULL and 'cannot open: ...'");
	ok(!seqread_open(put("e.fa", ""), &o, err, sizeof err) && strcmp(err, "empty file") == 0, "an empty file: 'empty file'");
	char *s = slurp(put("x.fa", ">a\nACGT\nnot a header\n"), &o, 8, err, sizeof err);
	ok(s != NULL, "FASTA sequence lines are any text until the next '>'");
	free(s);
	s = slurp(put("y.fa", "hello\n>a\nAC\n"), &o, 8, err, sizeof err);
	ok(!s, "a file starting with neither '>' nor '@' is not a sequence file (%s)", err);
	free(s);
}

int main(void)
{
	if (scratch_init("seqread") < 0) return 1;
	test_fasta();
	test_fastq();
	test_indexed();
	test_text();
	test_errors();
	scratch_done();
	return done_testing();
}
