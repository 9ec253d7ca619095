/* mktns -- writes a synthetic tensor stream for the tests and the bench:
 *   mktns [-n RECORDS] [-z] [-b MIB] [-o FILE]
 * Each record holds one tensor of every dtype, of rank 0 to 4.  With -b,
 * records are single f32 tensors of 1 MiB and MIB of them are written. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/cli.h"
#include "io/tns.h"
#include "io/tnsout.h"

int main(int argc, char **argv)
{
	cli_opts o;
	long n = 3, mib = 0;
	int c, flags = 0;
	cli_init(&o, argc, argv);
	while ((c = getopt(argc, argv, "n:zb:o:f")) != -1) {
		if (c == 'n') n = atol(optarg);
		else if (c == 'z') flags |= TNS_W_BGZF;
		else if (c == 'b') mib = atol(optarg);
		else if (c == 'o') o.output = optarg;
		else if (c == 'f') o.force = 1;
		else return 2;
	}
	tns_header h;
	tns_header_init(&h);
	tns_header_set(&h, "purpose", "test stream");
	tns_header_add_pg(&h, "mktns", SEQLM_VERSION, argc, argv, NULL);
	tns_writer *w = cli_tns_create(&o, o.output, &h, flags);
	if (mib) {
		float *x = xaligned(1 << 20);
		for (int i = 0; i < (1 << 18); i++) x[i] = (float)i * 0.5f;
		for (long r = 0; r < mib; r++) {
			tns_tensor t = tns_tensor_1d("x", TNS_F32, 1 << 18, x);
			char name[32];
			snprintf(name, sizeof name, "block%ld", r);
			if (tns_write(w, name, 1, &t) < 0) cli_tns_close(w);
		}
		free(x);
	} else {
		uint8_t u8[6] = {0, 1, 2, 3, 254, 255};
		int32_t i32[2 * 3 * 4];
		int64_t i64[3] = {-1, 0, 1LL << 40};
		uint16_t f16[4] = {0x3c00, 0xc000, 0x7bff, 0x0001};
		float f32[2 * 2 * 2 * 3];
		double f64 = 3.141592653589793;
		for (int i = 0; i < 24; i++) { i32[i] = i - 12; f32[i] = 0.25f * i - 1; }
		for (long r = 0; r < n; r++) {
			char name[64];
			i32[0] = (int32_t)r;
			snprintf(name, sizeof name, "rec%ld:1-%ld", r, r + 10);
			tns_tensor t[6] = {
				tns_tensor_1d("u8", TNS_U8, 6, u8),
				tns_tensor_make("i32", TNS_I32, 3, (int64_t[]){2, 3, 4}, i32),
				tns_tensor_1d("i64", TNS_I64, 3, i64),
				tns_tensor_make("f16", TNS_F16, 2, (int64_t[]){2, 2}, f16),
				tns_tensor_make("f32", TNS_F32, 4, (int64_t[]){2, 2, 2, 3}, f32),
				tns_tensor_make("f64", TNS_F64, 0, NULL, &f64),
			};
			if (tns_write(w, name, 6, t) < 0) cli_tns_close(w);
		}
	}
	cli_tns_close(w);
	tns_header_free(&h);
	return 0;
}
