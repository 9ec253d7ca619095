/* fuzz_vocab -- libFuzzer harness for vocabularies in stream headers and the
 * BPE loader: the input's lines become header lines (no CRC stands in the
 * way), then vocab_from_header, bpe_from_vocab, and BPE encoding of the
 * input's bytes as DNA and as text; any vocabulary that loads also goes
 * through the tokenizer table (tokenizers.h: seqlm's and the HF kinds)
 * and encodes the input.  Build and run: make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tok/bpe.h"
#include "io/dna.h"
#include "tok/kmer.h"
#include "tok/tokenizers.h"
#include "io/tns.h"
#include "tok/vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tns_header h;
	tok_vocab v;
	bpe_model b;
	char err[512];
	tns_header_init(&h);
	const char *s = (const char *)data, *e = s + size;
	while (s < e) {
		const char *nl = memchr(s, '\n', e - s);
		size_t n = nl ? (size_t)(nl - s) : (size_t)(e - s);
		if (n && !memchr(s, 0, n)) tns_header_add(&h, "%.*s", (int)n, s);
		s += n + 1;
	}
	if (vocab_from_header(&v, &h, err, sizeof err) == 0) {
		if (strcmp(v.kind, "bpe") == 0 && bpe_from_vocab(&b, &v, err, sizeof err) == 0) {
			int32_t *ids = malloc((size + 1) * sizeof *ids), *pos = malloc((size + 1) * sizeof *pos);
			bpe_encode_segment(&b, (const char *)data, (long)size, ids, pos);
			bpe_encode_text(&b, (const char *)data, (long)size, ids, pos);
			free(ids);
			free(pos);
			bpe_free(&b);
		}
		tns_header h2;
		tns_header_init(&h2);
		vocab_to_header(&v, &h2);
		tns_header_free(&h2);
		tokenizer t;
		if (tokenizer_init(&t, &v, err, sizeof err) == 0) {     /* takes v over */
			long cap = tokenizer_capacity(&t, (long)size);
			int32_t *ids = malloc(cap * 4), *pos = malloc(cap * 4), *len = malloc(cap * 4);
			char *dna = malloc(size + 1);
			long n = dna_normalise((const char *)data, (long)size, dna);
			if (t.kind->input & TOKIN_DNA) tokenizer_encode(&t, dna, n, ids, pos, len);
			if (t.kind->input & TOKIN_TEXT) tokenizer_encode(&t, (const char *)data, (long)size, ids, pos, len);
			free(ids); free(pos); free(len); free(dna);
			tokenizer_free(&t);
		}
	}
	tns_header_free(&h);
	return 0;
}
