/* fuzz_seqread -- libFuzzer harness for the sequence front end: FASTA,
 * FASTQ, SAM, BAM, CRAM (plain, gzip, BGZF) and text, read in pieces, then
 * normalised and cut into 6-mers, single nucleotides and BPE pieces.  Any
 * input must give sequences or a clean error.  Build and run: make fuzz. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "memfile.h"
#include "tok/bpe.h"
#include "io/dna.h"
#include "tok/kmer.h"
#include "io/seqread.h"

static void drain(const char *path, int text, int binary_ok)
{
	seqread_opts o = {0};
	char err[512], buf[4096], norm[4096];
	int32_t ids[4096], pos[4096];
	o.text = text;
	o.binary_ok = binary_ok;      /* without it, text mode first checks for UTF-8 */
	seqread *r = seqread_open(path, &o, err, sizeof err);
	if (!r) return;
	const char *name;
	int rc, recs = 0;
	while ((rc = seqread_next(r, &name)) > 0 && recs++ < 1000) {
		long n;
		while ((n = seqread_bases(r, buf, sizeof buf)) > 0) {
			if (text) {
				bpe_piece_len(buf, n);
				continue;
			}
			long m = dna_normalise(buf, n, norm);
			kmer_encode(6, 6, norm, m, ids, pos);
			kmer_encode(3, 1, norm, m, ids, pos);
			kmer_encode_char(norm, m, ids, pos);
		}
	}
	seqread_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path;
	memfile(data, size, &path);
	drain(path, 0, 0);
	drain(path, 1, 0);
	drain(path, 1, 1);
	return 0;
}
