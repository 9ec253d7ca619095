/* test_sniff.c -- what a non-stream input looks like (sniff_kind), the
 * hint a reader gives for it (sniff_hint), and the text check of
 * seqtok --text (sniff_not_text) on the edges of UTF-8 (RFC 3629). */
#include <string.h>
#include "tap.h"
#include "base/cli.h"
#include "io/sniff.h"

#define KIND(s) sniff_kind((const unsigned char *)(s), sizeof(s) - 1)

static size_t bad(const char *s, size_t n, int more)
{
	const char *what;
	return sniff_not_text((const unsigned char *)s, n, more, &what);
}
#define BAD(s) bad(s, sizeof(s) - 1, 0)

int main(void)
{
	const char *k;
	ok((k = KIND(">chr1 x\nACGT\n")) && !strcmp(k, "FASTA"), "'>' is FASTA");
	ok((k = KIND("@r1\nACGT\n+\nIIII\n")) && !strcmp(k, "FASTQ"), "'@' is FASTQ");
	ok((k = KIND("@HD\tVN:1.6\n")) && !strcmp(k, "SAM"), "an @HD line is SAM, not FASTQ");
	ok((k = KIND("@SQ\tSN:c\tLN:9\n")) && !strcmp(k, "SAM"), "an @SQ line is SAM");
	ok((k = KIND("r1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n")) && !strcmp(k, "SAM"), "a headerless line of 11 columns is SAM");
	ok((k = KIND("BAM\1\0\0\0\0")) && !strcmp(k, "BAM"), "BAM\\1 (after BGZF) is BAM");
	ok((k = KIND("CRAM\3\1xxxxxxxx")) && !strcmp(k, "CRAM"), "CRAM 3.1 is CRAM");
	ok(!KIND("CRAM\11\1"), "  ... not with a major version of 9");
	ok((k = KIND("##fileformat=VCFv4.2\n")) && !strcmp(k, "VCF"), "VCF");
	ok((k = KIND("Call me Ishmael.\n")) && !strcmp(k, "text"), "English is text");
	ok((k = KIND("na\xc3\xafve caf\xc3\xa9\n")) && !strcmp(k, "text"), "UTF-8 is text");
	ok(!KIND("\x89PNG\r\n\x1a\n"), "a PNG is nothing known");
	ok(!KIND("abc\1def"), "a control character makes it binary");
	ok(!KIND(""), "nothing is nothing");

	char buf[400];
	cli_prog = "lmtrain";
	const unsigned char fa[] = ">c\nACGT\n";
	sniff_hint(buf, sizeof buf, "g.fa", fa, sizeof fa - 1, 0);
	ok(!strcmp(buf, "this looks like FASTA; tokenise it first: seqtok g.fa | lmtrain ..."), "the hint names seqtok and the program");
	sniff_hint(buf, sizeof buf, "g.fa.gz", fa, sizeof fa - 1, 1);
	ok(!strcmp(buf, "this looks like gzip-compressed FASTA; tokenise it first: seqtok g.fa.gz | lmtrain ..."), "  ... gzip'd");
	cli_prog = "entropy";
	sniff_hint(buf, sizeof buf, "-", fa, sizeof fa - 1, 0);
	ok(!strcmp(buf, "this looks like FASTA; tokenise it first: seqtok FILE | lmprobe MODEL.tns | entropy ..."),
	   "entropy's pipe goes through lmprobe; standard input is FILE");
	const unsigned char txt[] = "It was the best of times\n";
	sniff_hint(buf, sizeof buf, "b.txt", txt, sizeof txt - 1, 0);
	ok(strstr(buf, "this looks like text; tokenise it first: seqtok --text --char b.txt |") != NULL, "text: seqtok --text --char");
	cli_prog = "seqtok";
	sniff_hint(buf, sizeof buf, "g.fa", fa, sizeof fa - 1, 0);
	ok(!strcmp(buf, "this looks like FASTA"), "seqtok (--vocab g.fa) is not told to pipe into itself");
	const unsigned char xz[] = "\xfd" "7zXZ\0\0";
	sniff_hint(buf, sizeof buf, "g.xz", xz, sizeof xz - 1, 0);
	ok(!strcmp(buf, "this looks like xz-compressed data"), "xz-compressed");
	const unsigned char png[] = "\x89PNG\r\n\x1a\n";
	sniff_hint(buf, sizeof buf, "i.png", png, sizeof png - 1, 0);
	ok(!strcmp(buf, ""), "nothing known: no hint");

	ok(BAD("plain ASCII\n\t\r") == 0, "ASCII is text");
	ok(BAD("a\0b") == 2, "a NUL byte is not (offset 1, +1)");
	ok(BAD("\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xef\xbf\xbf \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf") == 0,
	   "the smallest and largest 2-, 3- and 4-byte characters are text");
	ok(BAD("\xc0\xaf") == 1 && BAD("\xc1\xbf") == 1, "overlong 2-byte forms (C0, C1) are not");
	ok(BAD("\xe0\x9f\xbf") == 1, "an overlong 3-byte form is not");
	ok(BAD("\xf0\x8f\xbf\xbf") == 1, "an overlong 4-byte form is not");
	ok(BAD("\xed\xa0\x80") == 1 && BAD("\xed\x9f\xbf") == 0, "surrogates (ED A0..BF) are not; U+D7FF is");
	ok(BAD("\xf4\x90\x80\x80") == 1 && BAD("\xf5\x80\x80\x80") == 1, "above U+10FFFF is not");
	ok(BAD("ab\x80") == 3, "a lone continuation byte is not");
	ok(BAD("ab\xc3z") == 3, "a lead byte without its continuation is not");
	ok(bad("ab\xe2\x82", 4, 1) == 0 && bad("ab\xe2\x82", 4, 0) == 3,
	   "a character cut by the end of the buffer: text when more follows, not at the end of the input");
	ok(BAD("caf\xe9") == 4, "Latin-1 is not");
	return done_testing();
}
