/* fuzz_tns -- libFuzzer harness for the tensor stream reader: header,
 * records, end frame, BGZF, and the vocabulary in the header.  Any input
 * must give records or a clean error: no crash, no out-of-bounds access,
 * no huge allocation.  Build and run: make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "memfile.h"
#include "io/tns.h"
#include "tok/vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	int fd = memfile(data, size, NULL);
	tns_reader *r = tns_open_fd(dup(fd), "fuzz", err, sizeof err);
	if (!r) return 0;
	tok_vocab v;
	if (vocab_from_header(&v, tns_reader_header(r), err, sizeof err) == 0) vocab_free(&v);
	tns_record rec;
	volatile unsigned sum = 0;
	while (tns_read(r, &rec) > 0)
		for (int i = 0; i < rec.n; i++) {
			const unsigned char *p = rec.t[i].data;
			sum += (unsigned)strlen(rec.t[i].name) + (unsigned)tns_numel(&rec.t[i]);
			if (rec.t[i].nbytes) sum += p[0] + p[rec.t[i].nbytes - 1];
		}
	tns_close_reader(r);
	return 0;
}
