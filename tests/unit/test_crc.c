/* test_crc.c -- the fast CRC32 gives zlib's values at every length and
 * alignment, and chains like zlib's. */
#include <stdlib.h>
#include <zlib.h>
#include "tap.h"
#include "base/crc.h"

int main(void)
{
	enum { N = 1 << 16 };
	unsigned char *buf = malloc(N + 64);
	uint64_t s = 12345;
	for (int i = 0; i < N + 64; i++) { s = s * 6364136223846793005ULL + 1442695040888963407ULL; buf[i] = (unsigned char)(s >> 56); }
	int good = 1, tried = 0;
	for (size_t len = 0; len <= 1200; len++)
		for (int off = 0; off < 17; off += 3) {
			good &= crc_update(0, buf + off, len) == (uint32_t)crc32(0, buf + off, (uInt)len);
			tried++;
		}
	ok(good, "equal to zlib's crc32 for lengths 0..1200 at 6 alignments (%d cases)", tried);
	good = 1;
	for (size_t len = 1024; len <= N; len = len * 3 / 2 + 7)
		good &= crc_update(0xdeadbeef, buf + 5, len) == (uint32_t)crc32(0xdeadbeef, buf + 5, (uInt)len);
	ok(good, "equal to zlib's for long buffers and a non-zero starting CRC");
	uint32_t a = crc_update(0, buf, 100);
	a = crc_update(a, buf + 100, 1000);
	a = crc_update(a, buf + 1100, 37);
	ok(a == (uint32_t)crc32(0, buf, 1137), "chained pieces equal one pass");
	unsigned char zeros[256] = {0};
	ok(crc_update(0, zeros, 256) == (uint32_t)crc32(0, zeros, 256), "all-zero input");
	free(buf);
	return done_testing();
}
