/* test_tns.c -- the tensor stream: round trips, damage detection, memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <htslib/hts.h>
#include "tap.h"
#include "base/cli.h"
#include "io/tns.h"
#include "tok/vocab.h"

#include "scratch.h"
#define tmp_path scratch_path
#define dir scratch_dir

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) return NULL;
	fseek(fp, 0, SEEK_END);
	*n = (size_t)ftell(fp);
	fseek(fp, 0, SEEK_SET);
	unsigned char *b = malloc(*n ? *n : 1);
	if (fread(b, 1, *n, fp) != *n) { free(b); b = NULL; }
	fclose(fp);
	return b;
}

static void spill(const char *path, const void *b, size_t n)
{
	FILE *fp = fopen(path, "wb");
	fwrite(b, 1, n, fp);
	fclose(fp);
}

/* a small stream with every dtype at every rank 0..4 */
static int write_sample(const char *path, int flags, int nrec)
{
	char err[256];
	tns_header h;
	tns_header_init(&h);
	tns_header_set(&h, "vocab_size", "%d", 40);
	tns_header_add(&h, "@CO\tfree text");
	tns_writer *w = tns_create(path, &h, flags, err, sizeof err);
	tns_header_free(&h);
	if (!w) return -1;
	static unsigned char data[8 * 2 * 3 * 4 * 5];
	for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 7 + 3);
	for (int r = 0; r < nrec; r++) {
		tns_tensor t[6 * 5];
		char names[6 * 5][16];
		int n = 0;
		for (int dt = TNS_U8; dt <= TNS_F64; dt++)
			for (int nd = 0; nd <= 4; nd++) {
				int64_t dim[4] = {2, 3, 4, 5};
				snprintf(names[n], sizeof names[n], "%s_%d", tns_dtype_name(dt), nd);
				t[n] = tns_tensor_make(names[n], dt, nd, dim, data);
				n++;
			}
		char name[64];
		snprintf(name, sizeof name, "seq%d:%d-%d", r, r * 10 + 1, r * 10 + 10);
		if (tns_write(w, name, n, t) < 0) return -1;
	}
	if (tns_close(w) < 0) { tns_abort(w); return -1; }
	return 0;
}

/* reads a whole stream: records read, or -1 with the error in err */
static long read_all(const char *path, char *err, size_t len)
{
	tns_reader *r = tns_open(path, err, len);
	tns_record rec;
	long n = 0;
	int rc;
	if (!r) return -1;
	while ((rc = tns_read(r, &rec)) > 0) n++;
	if (rc < 0) { snprintf(err, len, "%s", tns_error(r)); n = -1; }
	tns_close_reader(r);
	return n;
}

static void test_round_trip_every_dtype_and_rank(void)
{
	char err[256];
	const char *p = tmp_path("rt.tns");
	ok(write_sample(p, 0, 3) == 0, "writes a stream with every dtype at ranks 0-4");
	tns_reader *r = tns_open(p, err, sizeof err);
	ok(r != NULL, "opens it again");
	if (!r) return;
	const tns_header *h = tns_reader_header(r);
	int64_t v = 0;
	ok(tns_header_get_int(h, "vocab_size", &v) == 0 && v == 40, "header key/value survives");
	ok(strcmp(h->line[0], "@HD\tVN:1") == 0, "@HD is the first header line");
	tns_record rec;
	int good = 1, nrec = 0;
	while (tns_read(r, &rec) > 0) {
		char want[64];
		snprintf(want, sizeof want, "seq%d:%d-%d", nrec, nrec * 10 + 1, nrec * 10 + 10);
		good &= strcmp(rec.name, want) == 0 && rec.n == 30;
		for (int i = 0; i < rec.n; i++) {
			const tns_tensor *t = &rec.t[i];
			size_t n = (size_t)tns_numel(t) * tns_dtype_size(t->dtype);
			good &= ((uintptr_t)t->data % 64) == 0;
			good &= t->nbytes == n && t->ndim == i % 5;
			for (size_t j = 0; j < n; j++) good &= ((unsigned char *)t->data)[j] == (unsigned char)(j * 7 + 3);
		}
		nrec++;
	}
	ok(good && nrec == 3, "names, dtypes, shapes, 64-byte alignment and bytes are as written");
	ok(tns_read(r, &rec) == 0, "reading past the end frame keeps returning end");
	tns_close_reader(r);
}

static void test_bgzf_and_plain_give_same_records(void)
{
	char err[256];
	const char *a = tmp_path("plain.tns"), *b = tmp_path("bgzf.tns.gz");
	write_sample(a, 0, 5);
	write_sample(b, TNS_W_BGZF, 5);
	tns_reader *ra = tns_open(a, err, sizeof err), *rb = tns_open(b, err, sizeof err);
	ok(ra && rb && !tns_reader_is_bgzf(ra) && tns_reader_is_bgzf(rb), "BGZF is detected on read");
	if (!ra || !rb) return;
	tns_record x, y;
	int same = 1, n = 0;
	for (;;) {
		int ka = tns_read(ra, &x), kb = tns_read(rb, &y);
		if (ka != kb) { same = 0; break; }
		if (ka <= 0) break;
		n++;
		same &= strcmp(x.name, y.name) == 0 && x.n == y.n;
		for (int i = 0; same && i < x.n; i++)
			same &= x.t[i].nbytes == y.t[i].nbytes && memcmp(x.t[i].data, y.t[i].data, x.t[i].nbytes) == 0;
	}
	ok(same && n == 5, "BGZF and plain streams give the same records");
	tns_close_reader(ra);
	tns_close_reader(rb);
}

static void test_truncation_at_every_byte_is_detected(void)
{
	char err[256];
	size_t n;
	const char *p = tmp_path("trunc-src.tns"), *q = tmp_path("trunc.tns");
	write_sample(p, 0, 2);
	unsigned char *b = slurp(p, &n);
	int all = 1;
	size_t bad_at = 0;
	for (size_t k = 0; k < n; k++) {
		spill(q, b, k);
		if (read_all(q, err, sizeof err) >= 0) { all = 0; bad_at = k; break; }
	}
	ok(all, "a stream cut at any of its %zu bytes is an error, never a success", n);
	if (!all) diag("cut at %zu read fine", bad_at);
	spill(q, b, n);
	ok(read_all(q, err, sizeof err) == 2, "the whole stream reads");
	free(b);
}

static void test_truncated_bgzf_is_detected(void)
{
	char err[256];
	size_t n;
	const char *p = tmp_path("tz-src.tns.gz"), *q = tmp_path("tz.tns.gz");
	write_sample(p, TNS_W_BGZF, 20);
	unsigned char *b = slurp(p, &n);
	int all = 1;
	for (size_t k = 0; k < n; k += 1 + n / 97) {
		spill(q, b, k);
		if (read_all(q, err, sizeof err) >= 0) all = 0;
	}
	ok(all, "a BGZF stream cut anywhere is an error");
	free(b);
}

static void test_every_single_bit_flip_is_detected(void)
{
	char err[256];
	size_t n;
	const char *p = tmp_path("flip-src.tns"), *q = tmp_path("flip.tns");
	write_sample(p, 0, 1);
	unsigned char *b = slurp(p, &n);
	int all = 1;
	long tried = 0;
	for (size_t k = 0; k < n; k++)
		for (int bit = 0; bit < 8; bit += (n > 4000 ? 3 : 1)) {
			b[k] ^= (unsigned char)(1u << bit);
			spill(q, b, n);
			if (read_all(q, err, sizeof err) >= 0) { all = 0; diag("flip byte %zu bit %d read fine", k, bit); }
			b[k] ^= (unsigned char)(1u << bit);
			tried++;
		}
	ok(all, "each of %ld single bit flips is detected", tried);
	free(b);
}

static void test_error_names_record_and_offset(void)
{
	char err[256];
	size_t n;
	const char *p = tmp_path("where-src.tns"), *q = tmp_path("where.tns");
	write_sample(p, 0, 3);
	unsigned char *b = slurp(p, &n);
	/* find record 2's frame: the third 'TNSR' */
	size_t at = 0;
	int seen = 0;
	for (size_t k = 0; k + 4 <= n; k += 64)
		if (memcmp(b + k, "TNSR", 4) == 0 && ++seen == 3) { at = k; break; }
	b[at + 200] ^= 0x10;
	spill(q, b, n);
	long got = read_all(q, err, sizeof err);
	char want[64];
	snprintf(want, sizeof want, "record 2 at byte %zu", at);
	ok(got < 0 && strstr(err, want) && strstr(err, "CRC"), "a corrupt record is reported with its number and byte offset");
	if (got >= 0 || !strstr(err, want)) diag("error: %s (want '%s')", err, want);
	free(b);
}

static void test_huge_declared_frame_is_not_allocated(void)
{
	char err[256];
	size_t n;
	const char *p = tmp_path("huge-src.tns"), *q = tmp_path("huge.tns");
	write_sample(p, 0, 1);
	unsigned char *b = slurp(p, &n);
	size_t at = 0;
	for (size_t k = 0; k + 4 <= n; k += 64)
		if (memcmp(b + k, "TNSR", 4) == 0) { at = k; break; }
	uint64_t big = (uint64_t)15 << 30;       /* 15 GiB, under the cap */
	memcpy(b + at + 8, &big, 8);
	spill(q, b, n);
	struct rlimit old, lim;
	getrlimit(RLIMIT_AS, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)2 << 30;              /* 2 GiB address space */
#ifdef __SANITIZE_ADDRESS__
	int limited = 0;         /* ASan's shadow memory needs the address space */
	(void)lim;
#else
	int limited = old.rlim_cur == RLIM_INFINITY && setrlimit(RLIMIT_AS, &lim) == 0;
#endif
	long got = read_all(q, err, sizeof err);
	if (limited) setrlimit(RLIMIT_AS, &old);
	ok(got < 0 && strstr(err, "truncated"), "a 15 GiB declared record in a small file is 'truncated', not an allocation");
	if (!(got < 0 && strstr(err, "truncated"))) diag("error: %s", err);
	uint64_t huge = (uint64_t)1 << 60;
	memcpy(b + at + 8, &huge, 8);
	spill(q, b, n);
	got = read_all(q, err, sizeof err);
	ok(got < 0 && strstr(err, "bad length"), "a frame length over the cap is refused");
	free(b);
}

static long rss_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	if (!fp) return -1;
	while (fgets(line, sizeof line, fp))
		if (strncmp(line, "VmHWM:", 6) == 0) kb = atol(line + 6);
	fclose(fp);
	return kb;
}

static void test_many_records_in_constant_memory(void)
{
	char err[256];
	const char *p = tmp_path("many.tns");
	tns_header h;
	tns_header_init(&h);
	tns_writer *w = tns_create(p, &h, 0, err, sizeof err);
	int32_t tok[128];
	for (int i = 0; i < 128; i++) tok[i] = i;
	long before = rss_kb();
	for (int r = 0; r < 100000; r++) {
		char name[32];
		tok[0] = r;
		snprintf(name, sizeof name, "chr1:%d-%d", r * 100 + 1, r * 100 + 100);
		tns_tensor t = tns_tensor_1d("tokens", TNS_I32, 128, tok);
		tns_write(w, name, 1, &t);
	}
	ok(tns_close(w) == 0, "writes 1e5 records");
	tns_reader *r = tns_open(p, err, sizeof err);
	tns_record rec;
	long n = 0, sum_ok = 1;
	while (tns_read(r, &rec) > 0) {
		const tns_tensor *t = tns_get_typed(&rec, "tokens", TNS_I32, 1);
		sum_ok &= t && ((int32_t *)t->data)[0] == n;
		n++;
	}
	tns_close_reader(r);
	long after = rss_kb();
	ok(n == 100000 && sum_ok, "reads all 1e5 records back in order");
	ok(after - before < 8 * 1024, "peak memory grew by %ld kB for a %ld kB stream (O(1 record))",
	   after - before, 100000L * 640 / 1024);
	tns_header_free(&h);
}

static void test_write_to_dev_full_fails(void)
{
	char err[256];
	tns_header h;
	tns_header_init(&h);
	int fd = dup(STDOUT_FILENO);
	FILE *full = freopen("/dev/full", "w", stdout);
	tns_writer *w = full ? tns_create("-", &h, TNS_W_FORCE, err, sizeof err) : NULL;
	int32_t x[4096] = {0};
	int rc = 0;
	if (w) {
		for (int i = 0; i < 400 && rc == 0; i++) {
			tns_tensor t = tns_tensor_1d("x", TNS_I32, 4096, x);
			rc = tns_write(w, "r", 1, &t);
		}
		if (rc == 0) rc = tns_close(w);
		else tns_close(w);
	}
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	stdout = fdopen(STDOUT_FILENO, "w");
	ok(w && rc < 0 && tns_werrno(w) == ENOSPC && strstr(tns_werror(w), "No space"), "writing to /dev/full fails with ENOSPC");
	if (w) tns_abort(w);
	tns_header_free(&h);
}

static void test_failed_write_leaves_no_file(void)
{
	char err[256];
	struct stat st;
	const char *p = tmp_path("never.tns");
	tns_header h;
	tns_header_init(&h);
	tns_writer *w = tns_create(p, &h, 0, err, sizeof err);
	int32_t x[4] = {1, 2, 3, 4};
	tns_tensor t = tns_tensor_1d("x", TNS_I32, 4, x);
	tns_write(w, "a", 1, &t);
	ok(stat(p, &st) != 0, "while writing, only the .tmp file exists");
	tns_abort(w);
	char tmp[600];
	snprintf(tmp, sizeof tmp, "%s.tmp", p);
	ok(stat(p, &st) != 0 && stat(tmp, &st) != 0, "an aborted write leaves neither the file nor its .tmp");
	ok(tns_create(dir, &h, 0, err, sizeof err) == NULL && strstr(err, "directory"), "a directory as output is refused");
	tns_header_free(&h);
}

static void test_header_helpers(void)
{
	tns_header h;
	char buf[128];
	char *argv[] = {"seqtok", "-k", "6", "a\tb.fa"};
	tns_header_init(&h);
	tns_header_add_pg(&h, "seqtok", "0.1", 4, argv, "\tSD:42");
	tns_header_add_pg(&h, "lmprobe", "0.1", 1, argv, NULL);
	tns_header_add_pg(&h, "lmprobe", "0.1", 1, argv, NULL);
	ok(tns_line_field(h.line[0], "CL", buf, sizeof buf) && strcmp(buf, "seqtok -k 6 a\\tb.fa") == 0,
	   "@PG CL holds the command line with tabs escaped");
	ok(tns_line_field(h.line[0], "SD", buf, sizeof buf) && strcmp(buf, "42") == 0, "@PG carries extra fields (seed)");
	ok(tns_line_field(h.line[2], "ID", buf, sizeof buf) && strcmp(buf, "lmprobe.1") == 0, "a repeated program gets a unique @PG ID");
	ok(tns_line_field(h.line[2], "PP", buf, sizeof buf) && strcmp(buf, "lmprobe") == 0, "@PG PP names the previous program");
	tns_header_set(&h, "hidden_size", "%d", 16);
	tns_header_set(&h, "hidden_size", "%d", 32);
	int64_t v;
	ok(tns_header_get_int(&h, "hidden_size", &v) == 0 && v == 32 && h.n == 4, "@KV set replaces the old value");
	ok(tns_header_get(&h, "hidden") == NULL, "@KV lookup matches whole keys only");
	ok(tns_header_add(&h, "bad line") < 0 && tns_header_add(&h, "@CO\tx\ny") < 0, "malformed header lines are refused");
	tns_header_free(&h);
}

static void test_vocab_round_trip_and_hash(void)
{
	tok_vocab v, w;
	tns_header h;
	char err[256];
	vocab_init(&v, "bpe");
	vocab_add_specials(&v);
	vocab_add(&v, "A", 1, NULL);
	vocab_add(&v, "a\tb\\c\n\x01\xc3\xa9", 9, "L:5\tR:5");
	vocab_finish(&v);
	tns_header_init(&h);
	vocab_to_header(&v, &h);
	ok(vocab_from_header(&w, &h, err, sizeof err) == 0, "a vocabulary reads back from its header lines");
	ok(w.n == 7 && w.len[6] == 9 && memcmp(w.tok[6], v.tok[6], 9) == 0 && strcmp(w.extra[6], "L:5\tR:5") == 0,
	   "tokens with tabs, backslashes, control and UTF-8 bytes survive, with their extra fields");
	ok(w.hash == v.hash && vocab_header_hash(&h) == v.hash, "the hash is recomputed and matches");
	vocab_free(&w);
	/* a changed token must fail the hash */
	for (int i = 0; i < h.n; i++)
		if (strcmp(h.line[i], "@VO\tA") == 0) h.line[i][4] = 'C';
	ok(vocab_from_header(&w, &h, err, sizeof err) == -2 && strstr(err, "hash"), "an edited vocabulary fails its hash check");
	tns_header_free(&h);
	tns_header_init(&h);
	ok(vocab_from_header(&w, &h, err, sizeof err) == -1, "a header without @TK has no vocabulary");
	tns_header_free(&h);
	vocab_free(&v);
}

static void test_f16_conversion(void)
{
	int good = 1;
	for (uint32_t x = 0; x < 65536; x++) {
		uint16_t h = (uint16_t)x;
		float f = tns_f16_to_f32(h);
		if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) { good &= f != f; continue; }
		good &= tns_f32_to_f16(f) == h;
	}
	ok(good, "f16 -> f32 -> f16 is exact for all 65536 halves");
	ok(tns_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00 && tns_f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3c02,
	   "f32 -> f16 rounds half to even");
	ok(tns_f32_to_f16(1e6f) == 0x7c00 && tns_f32_to_f16(1e-9f) == 0, "overflow gives inf, underflow zero");
}

int main(void)
{
	hts_set_log_level(HTS_LOG_OFF);
	if (scratch_init("tns") < 0) return 1;
	test_round_trip_every_dtype_and_rank();
	test_bgzf_and_plain_give_same_records();
	test_truncation_at_every_byte_is_detected();
	test_truncated_bgzf_is_detected();
	test_every_single_bit_flip_is_detected();
	test_error_names_record_and_offset();
	test_huge_declared_frame_is_not_allocated();
	test_many_records_in_constant_memory();
	test_write_to_dev_full_fails();
	test_failed_write_leaves_no_file();
	test_header_helpers();
	test_vocab_round_trip_and_hash();
	test_f16_conversion();
	scratch_done();
	return done_testing();
}
