/* tns.c -- reading and writing the tensor stream; layout in man/tns.5.
 *
 * A stream is a sequence of frames, each at a 64-byte aligned offset:
 *   head (32 bytes): "TNS" + type ('H', 'R', 'E'), u32 crc32 of the frame
 *   from byte 8 to its end, u64 frame length (multiple of 64), u64 index,
 *   u64 body length; then the body, then zero padding.
 * All integers little-endian.  The end frame holds the record count and the
 * CRC32 of every byte before it. */
#include "io/tns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>
#include <htslib/bgzf.h>
#include <htslib/hfile.h>
#include "base/crc.h"
#include "io/sniff.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "seqlm assumes a little-endian host"
#endif

#define HEAD 32
#define DESC 56                           /* tensor descriptor without its name */
#define PAD8(x) (((x) + 7) & ~(uint64_t)7)
#define PAD64(x) (((x) + 63) & ~(uint64_t)63)

static const unsigned char zeros[TNS_ALIGN];

static uint32_t rd32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void wr32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }

/* The end frame's CRC covers the whole stream: each frame's CRC (of its
 * bytes 8..len, checked anyway) is extended to the whole frame and appended
 * to the stream's with zlib's combine, whose operators for a frame length
 * are cached (records of one stream mostly share a length). */
typedef struct { uint64_t len; unsigned long op8, op; } crc_ops;

static uint32_t stream_crc_add(uint32_t stream, const unsigned char *head8, uint32_t fcrc,
                               uint64_t len, crc_ops *c)
{
	uint32_t first8 = crc_update(0, head8, 8);
#if ZLIB_VERNUM >= 0x12c0
	if (c->len != len) {
		c->len = len;
		c->op8 = crc32_combine_gen((z_off_t)(len - 8));
		c->op = crc32_combine_gen((z_off_t)len);
	}
	uint32_t whole = (uint32_t)crc32_combine_op(first8, fcrc, c->op8);
	return (uint32_t)crc32_combine_op(stream, whole, c->op);
#else
	(void)c;
	return (uint32_t)crc32_combine(stream, crc32_combine(first8, fcrc, (z_off_t)(len - 8)), (z_off_t)len);
#endif
}

/* not a regular file: a pipe, FIFO, terminal or device */
static int fd_piped(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && !S_ISREG(st.st_mode);
}

/* a bigger pipe buffer halves the context switches of a pipeline */
static void widen_pipe(int fd)
{
#ifdef F_SETPIPE_SZ
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) (void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
#else
	(void)fd;
#endif
}

/* ---- dtypes and small helpers ------------------------------------------ */

static const struct { const char *name; size_t size; } dtypes[] = {
	[TNS_U8] = {"u8", 1}, [TNS_I32] = {"i32", 4}, [TNS_I64] = {"i64", 8},
	[TNS_F16] = {"f16", 2}, [TNS_F32] = {"f32", 4}, [TNS_F64] = {"f64", 8},
};
#define NDTYPES (int)(sizeof dtypes / sizeof dtypes[0])

const char *tns_dtype_name(tns_dtype d)
{
	return d > 0 && (int)d < NDTYPES && dtypes[d].name ? dtypes[d].name : "?";
}

size_t tns_dtype_size(tns_dtype d)
{
	return d > 0 && (int)d < NDTYPES ? dtypes[d].size : 0;
}

int tns_dtype_parse(const char *s)
{
	for (int i = 1; i < NDTYPES; i++)
		if (dtypes[i].name && strcmp(s, dtypes[i].name) == 0) return i;
	return -1;
}

int64_t tns_numel(const tns_tensor *t)
{
	int64_t n = 1;
	for (int i = 0; i < t->ndim; i++) n *= t->dim[i];
	return n;
}

tns_tensor tns_tensor_make(const char *name, tns_dtype dtype, int ndim,
                           const int64_t *dim, const void *data)
{
	tns_tensor t = {0};
	t.name = name;
	t.dtype = dtype;
	t.ndim = ndim;
	for (int i = 0; i < ndim && i < TNS_MAX_DIMS; i++) t.dim[i] = dim[i];
	t.data = (void *)data;
	t.nbytes = (size_t)tns_numel(&t) * tns_dtype_size(dtype);
	return t;
}

tns_tensor tns_tensor_1d(const char *name, tns_dtype dtype, int64_t n, const void *data)
{
	return tns_tensor_make(name, dtype, 1, &n, data);
}

float tns_f16_to_f32(uint16_t h)
{
	uint32_t s = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, u;
	float f;
	if (e == 0) {                       /* zero or subnormal: exact in f32 */
		f = (float)m * 0x1p-24f;
		memcpy(&u, &f, 4);
		u |= s;
	} else if (e == 31) {
		u = s | 0x7f800000u | (m << 13);
	} else {
		u = s | ((e + 112) << 23) | (m << 13);
	}
	memcpy(&f, &u, 4);
	return f;
}

uint16_t tns_f32_to_f16(float f)
{
	uint32_t u, s, e, m;
	memcpy(&u, &f, 4);
	s = (u >> 16) & 0x8000;
	e = (u >> 23) & 0xff;
	m = u & 0x7fffff;
	if (e == 0xff) return (uint16_t)(s | 0x7c00 | (m ? 0x200 | (m >> 13) : 0));
	int ex = (int)e - 127 + 15;
	if (ex >= 31) return (uint16_t)(s | 0x7c00);
	if (ex <= 0) {                      /* subnormal half, or zero */
		if (ex < -10) return (uint16_t)s;
		m |= 0x800000;
		int shift = 14 - ex;
		uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
		if (rem > half || (rem == half && (r & 1))) r++;
		return (uint16_t)(s | r);
	}
	uint32_t r = (uint32_t)(ex << 10) | (m >> 13), rem = m & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;  /* may carry into the exponent: correct */
	return (uint16_t)(s | r);
}

/* ---- header -------------------------------------------------------------- */

void tns_header_init(tns_header *h) { memset(h, 0, sizeof *h); }

void tns_header_free(tns_header *h)
{
	for (int i = 0; i < h->n; i++) free(h->line[i]);
	free(h->line);
	memset(h, 0, sizeof *h);
}

static void header_push(tns_header *h, char *s)
{
	if (h->n == h->m) {
		h->m = h->m ? 2 * h->m : 16;
		h->line = realloc(h->line, h->m * sizeof *h->line);
		if (!h->line) { fputs("tns: out of memory\n", stderr); abort(); }
	}
	h->line[h->n++] = s;
}

void tns_header_copy(tns_header *dst, const tns_header *src)
{
	tns_header_init(dst);
	for (int i = 0; i < src->n; i++) header_push(dst, strdup(src->line[i]));
}

static int line_ok(const char *s)
{
	if (s[0] != '@' || !s[1] || !s[2] || s[3] != '\t') return 0;
	return strchr(s, '\n') == NULL;
}

int tns_header_add(tns_header *h, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) s = NULL;
	va_end(ap);
	if (!s) return -1;
	if (!line_ok(s)) { free(s); return -1; }
	header_push(h, s);
	return 0;
}

void tns_header_remove(tns_header *h, const char *prefix)
{
	size_t n = strlen(prefix);
	int j = 0;
	for (int i = 0; i < h->n; i++) {
		if (strncmp(h->line[i], prefix, n) == 0) free(h->line[i]);
		else h->line[j++] = h->line[i];
	}
	h->n = j;
}

static int kv_match(const char *line, const char *key)
{
	size_t n = strlen(key);
	return strncmp(line, "@KV\t", 4) == 0 && strncmp(line + 4, key, n) == 0 && line[4 + n] == '\t';
}

void tns_header_set(tns_header *h, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *val = NULL, *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&val, fmt, ap) < 0) val = NULL;
	va_end(ap);
	if (!val || asprintf(&s, "@KV\t%s\t%s", key, val) < 0) { fputs("tns: out of memory\n", stderr); abort(); }
	free(val);
	for (char *p = s + 4; *p; p++)          /* keep it one line */
		if (*p == '\n' || *p == '\r') *p = ' ';
	for (int i = 0; i < h->n; i++)
		if (kv_match(h->line[i], key)) { free(h->line[i]); h->line[i] = s; return; }
	header_push(h, s);
}

const char *tns_header_get(const tns_header *h, const char *key)
{
	const char *v = NULL;
	for (int i = 0; i < h->n; i++)          /* the last one wins */
		if (kv_match(h->line[i], key)) v = h->line[i] + 4 + strlen(key) + 1;
	return v;
}

int tns_header_get_int(const tns_header *h, const char *key, int64_t *v)
{
	const char *s = tns_header_get(h, key);
	char *end;
	if (!s) return -1;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || end == s || *end) return -1;
	*v = x;
	return 0;
}

int tns_header_get_double(const tns_header *h, const char *key, double *v)
{
	const char *s = tns_header_get(h, key);
	char *end;
	if (!s) return -1;
	errno = 0;
	double x = strtod(s, &end);
	if (errno || end == s || *end) return -1;
	*v = x;
	return 0;
}

const char *tns_line_field(const char *line, const char *tag, char *buf, size_t len)
{
	size_t n = strlen(tag);
	for (const char *p = strchr(line, '\t'); p; p = strchr(p + 1, '\t')) {
		if (strncmp(p + 1, tag, n) == 0 && p[1 + n] == ':') {
			const char *v = p + 2 + n, *e = strchr(v, '\t');
			size_t k = e ? (size_t)(e - v) : strlen(v);
			if (len == 0) return NULL;
			if (k >= len) k = len - 1;
			memcpy(buf, v, k);
			buf[k] = 0;
			return buf;
		}
	}
	return NULL;
}

void tns_header_add_pg(tns_header *h, const char *prog, const char *version,
                       int argc, char *const *argv, const char *extra)
{
	char id[300], pp[300], buf[256];
	int used = 0, last = -1;
	size_t cap = 256, n = 0;
	char *cl = malloc(cap);
	for (int i = 0; i < h->n; i++) {
		if (strncmp(h->line[i], "@PG\t", 4) != 0) continue;
		last = i;
		if (tns_line_field(h->line[i], "ID", buf, sizeof buf)) {
			size_t k = strlen(prog);
			if (strncmp(buf, prog, k) == 0 && (buf[k] == 0 || buf[k] == '.')) used++;
		}
	}
	if (used) snprintf(id, sizeof id, "%s.%d", prog, used);
	else snprintf(id, sizeof id, "%s", prog);
	pp[0] = 0;
	if (last >= 0 && tns_line_field(h->line[last], "ID", buf, sizeof buf))
		snprintf(pp, sizeof pp, "\tPP:%s", buf);
	for (int i = 0; i < argc; i++) {          /* the command line, tabs escaped */
		for (const char *p = argv[i]; ; p++) {
			if (n + 4 >= cap) cl = realloc(cl, cap *= 2);
			if (!*p) break;
			if (*p == '\t') { cl[n++] = '\\'; cl[n++] = 't'; }
			else if (*p == '\n') { cl[n++] = '\\'; cl[n++] = 'n'; }
			else if (*p == '\\') { cl[n++] = '\\'; cl[n++] = '\\'; }
			else cl[n++] = *p;
		}
		if (i + 1 < argc) cl[n++] = ' ';
	}
	cl[n] = 0;
	tns_header_add(h, "@PG\tID:%s\tPN:%s%s\tVN:%s\tCL:%s%s", id, prog, pp,
	               version, cl, extra ? extra : "");
	free(cl);
}

/* header text <-> lines; @HD first */
static char *header_text(const tns_header *h, size_t *len)
{
	size_t n = 0, k = 0;
	int has_hd = h->n > 0 && strncmp(h->line[0], "@HD\t", 4) == 0;
	char hd[64];
	snprintf(hd, sizeof hd, "@HD\tVN:%d\n", TNS_VERSION);
	for (int i = 0; i < h->n; i++) n += strlen(h->line[i]) + 1;
	char *s = malloc(n + sizeof hd);
	if (!s) return NULL;
	if (!has_hd) { strcpy(s, hd); k = strlen(hd); }
	for (int i = 0; i < h->n; i++) {
		size_t l = strlen(h->line[i]);
		memcpy(s + k, h->line[i], l);
		k += l;
		s[k++] = '\n';
	}
	*len = k;
	return s;
}

/* ---- reading ------------------------------------------------------------- */

struct tns_reader {
	char *path;
	hFILE *hf;                    /* plain input */
	BGZF *bg;                     /* or BGZF/gzip input */
	tns_header hdr;
	unsigned char *buf;           /* one frame, 64-byte aligned */
	size_t cap;
	tns_tensor *t;
	int tcap;
	char *names;                  /* NUL-terminated copies of the names */
	size_t ncap;
	uint64_t pos;                 /* uncompressed bytes consumed */
	uint64_t nrec;
	uint32_t crc;                 /* CRC32 of the stream so far */
	crc_ops ops;
	int state;                    /* 0 reading, 1 at verified end, -1 failed */
	int piped;                    /* not a regular file: a pipe, a terminal... */
	char err[512];
};

static int rfail(tns_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rfail(tns_reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	r->state = -1;
	return -1;
}

/* read exactly n bytes: n on success, fewer at end of input, -1 on error */
static ssize_t rread(tns_reader *r, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = r->bg ? bgzf_read(r->bg, (char *)p + got, n - got)
		                  : hread(r->hf, (char *)p + got, n - got);
		if (k < 0) return -1;
		if (k == 0) break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static int grow(tns_reader *r, size_t need)
{
	if (need <= r->cap) return 0;
	size_t cap = r->cap ? r->cap : 1 << 16;
	while (cap < need) cap *= 2;
	void *p = NULL;
	if (posix_memalign(&p, TNS_ALIGN, cap) != 0) return -1;
	if (r->buf) memcpy(p, r->buf, r->cap);
	free(r->buf);
	r->buf = p;
	r->cap = cap;
	return 0;
}

/* a stream from a pipe that stops early is, nearly always, the program
 * writing it failing (its own message is above ours) */
static const char *upstream(const tns_reader *r)
{
	return r->piped ? " (the program writing it failed or was stopped)" : "";
}

/* The first bytes are not a frame: say what they look like instead (FASTA,
 * text...) and how to make a stream of them; k bytes are in r->buf. */
static int not_a_stream(tns_reader *r, ssize_t k)
{
	enum { SNIFF = 4096 };
	char hint[400];
	if (grow(r, SNIFF) == 0) {
		ssize_t m = rread(r, r->buf + k, SNIFF - (size_t)k);
		if (m > 0) k += m;
	}
	sniff_hint(hint, sizeof hint, r->path, r->buf, (size_t)k, r->bg != NULL);
	if (!*hint) return rfail(r, "not a tensor stream (bad magic)");
	return rfail(r, "not a tensor stream: %s", hint);
}

static const char *frame_kind(int c)
{
	return c == 'H' ? "header" : c == 'R' ? "record" : c == 'E' ? "end frame" : "frame";
}

/* Reads one whole frame into r->buf and checks head and CRC.  Returns the
 * type character, or -1 (message set), or 0 at a clean end of input before
 * any byte of a frame. */
static int read_frame(tns_reader *r, uint64_t *flen)
{
	unsigned char *h;
	uint64_t at = r->pos;
	if (grow(r, HEAD) < 0) return rfail(r, "out of memory");
	h = r->buf;
	ssize_t k = rread(r, h, HEAD);
	if (k < 0) return rfail(r, "read error at byte %llu: %s", (unsigned long long)at, strerror(errno));
	if (k == 0) return 0;
	if (memcmp(h, "TNS", k < 3 ? (size_t)k : 3) != 0 || (k > 3 && (!h[3] || !strchr("HRE", h[3])))) {
		if (at == 0) return not_a_stream(r, k);
		return rfail(r, "byte %llu: not a tns frame (bad magic)", (unsigned long long)at);
	}
	if (k < HEAD)
		return rfail(r, "truncated: frame at byte %llu cut after %zd bytes%s", (unsigned long long)at, k, upstream(r));
	uint64_t len = rd64(h + 8), body = rd64(h + 24);
	if (len < TNS_ALIGN || len % TNS_ALIGN || len > TNS_MAX_FRAME || body > len - HEAD)
		return rfail(r, "byte %llu: %s frame has a bad length (%llu)", (unsigned long long)at,
		             frame_kind(h[3]), (unsigned long long)len);
	/* Grow with the data actually read, so a corrupt length cannot make us
	 * allocate gigabytes for a stream that ends early. */
	size_t have = HEAD;
	while (have < len) {
		size_t want = len - have, step = have < (1u << 20) ? (1u << 20) : have;
		if (want > step) want = step;
		if (grow(r, have + want) < 0) return rfail(r, "out of memory for a %llu-byte frame", (unsigned long long)len);
		k = rread(r, r->buf + have, want);
		if (k < 0) return rfail(r, "read error at byte %llu: %s", (unsigned long long)(at + have), strerror(errno));
		have += (size_t)k;
		if ((size_t)k < want)
			return rfail(r, "truncated: %s %llu at byte %llu is %llu bytes, only %zu present%s",
			             frame_kind(r->buf[3]), (unsigned long long)(r->buf[3] == 'R' ? r->nrec : 0),
			             (unsigned long long)at, (unsigned long long)len, have, upstream(r));
	}
	h = r->buf;
	uint32_t crc = crc_update(0, h + 8, len - 8);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	crc = rd32(h + 4);          /* let the fuzzer past the CRC into the parser */
#endif
	if (crc != rd32(h + 4)) {
		if (h[3] == 'R')
			return rfail(r, "record %llu at byte %llu: CRC mismatch (corrupt data)",
			             (unsigned long long)r->nrec, (unsigned long long)at);
		return rfail(r, "%s at byte %llu: CRC mismatch (corrupt data)", frame_kind(h[3]), (unsigned long long)at);
	}
	r->crc = stream_crc_add(r->crc, h, crc, len, &r->ops);
	r->pos += len;
	*flen = len;
	return h[3];
}

static int parse_header(tns_reader *r, uint64_t len)
{
	const unsigned char *h = r->buf;
	uint64_t body = rd64(h + 24), ver = rd64(h + 16);
	if (ver != TNS_VERSION)
		return rfail(r, "unsupported tns format version %llu (this is version %d)", (unsigned long long)ver, TNS_VERSION);
	if (body > TNS_MAX_HEADER) return rfail(r, "header too large (%llu bytes)", (unsigned long long)body);
	(void)len;
	const char *s = (const char *)h + HEAD, *e = s + body;
	while (s < e) {
		const char *nl = memchr(s, '\n', e - s);
		if (!nl) return rfail(r, "header: last line has no newline");
		size_t n = nl - s;
		char *line = malloc(n + 1);
		if (!line) return rfail(r, "out of memory");
		memcpy(line, s, n);
		line[n] = 0;
		if (memchr(s, 0, n) || !line_ok(line)) {
			free(line);
			return rfail(r, "header: malformed line %d", r->hdr.n + 1);
		}
		header_push(&r->hdr, line);
		s = nl + 1;
	}
	if (r->hdr.n == 0 || strncmp(r->hdr.line[0], "@HD\t", 4) != 0)
		return rfail(r, "header: first line is not @HD");
	return 0;
}

static tns_reader *open_hfile(hFILE *hf, const char *path, int piped, char *err, size_t errlen)
{
	tns_reader *r = calloc(1, sizeof *r);
	char peek[2];
	if (!r || !(r->path = strdup(path))) {
		if (err) snprintf(err, errlen, "out of memory");
		free(r);
		if (hf) hclose_abruptly(hf);
		return NULL;
	}
	r->hf = hf;
	r->piped = piped;
	if (!r->hf) {
		if (err) snprintf(err, errlen, "%s", strerror(errno));
		tns_close_reader(r);
		return NULL;
	}
	ssize_t k = hpeek(r->hf, peek, 2);
	if (k == 2 && (unsigned char)peek[0] == 0x1f && (unsigned char)peek[1] == 0x8b) {
		r->bg = bgzf_hopen(r->hf, "r");
		if (!r->bg) {
			if (err) snprintf(err, errlen, "cannot open the BGZF/gzip stream");
			r->hf = NULL;
			tns_close_reader(r);
			return NULL;
		}
		r->hf = NULL;               /* owned by BGZF now */
	}
	uint64_t len;
	int c = read_frame(r, &len);
	/* Nothing at all: from a pipe, the program before us in the pipeline
	 * failed (and said why); our own error must not read as a second one */
	if (c == 0 && piped) rfail(r, "no data: no tensor stream arrived (the program writing it failed, or the input is empty)");
	else if (c == 0) rfail(r, "empty file (0 bytes; not a tensor stream)");
	else if (c > 0 && c != 'H') rfail(r, "stream does not start with a header frame");
	else if (c == 'H') parse_header(r, len);
	if (r->state < 0) {
		if (err) snprintf(err, errlen, "%s", r->err);
		tns_close_reader(r);
		return NULL;
	}
	return r;
}

tns_reader *tns_open(const char *path, char *err, size_t errlen)
{
	if (!path || strcmp(path, "-") == 0) {
		widen_pipe(STDIN_FILENO);
		return open_hfile(hdopen(STDIN_FILENO, "r"), "-", fd_piped(STDIN_FILENO), err, errlen);
	}
	struct stat st;
	return open_hfile(hopen(path, "r"), path, stat(path, &st) == 0 && !S_ISREG(st.st_mode), err, errlen);
}

tns_reader *tns_open_fd(int fd, const char *name, char *err, size_t errlen)
{
	return open_hfile(hdopen(fd, "r"), name ? name : "-", fd_piped(fd), err, errlen);
}

const tns_header *tns_reader_header(const tns_reader *r) { return &r->hdr; }
const char *tns_reader_path(const tns_reader *r) { return r->path; }
const char *tns_error(const tns_reader *r) { return r->err; }
uint64_t tns_reader_nrecords(const tns_reader *r) { return r->nrec; }
int tns_reader_is_bgzf(const tns_reader *r) { return r->bg != NULL; }

static int parse_record(tns_reader *r, uint64_t len, uint64_t at, tns_record *rec)
{
	const unsigned char *b = r->buf;
	uint64_t body = rd64(b + 24), end = HEAD + body, p = HEAD, idx = rd64(b + 16);
	unsigned long long ri = (unsigned long long)r->nrec;
	if (idx != r->nrec)
		return rfail(r, "record %llu at byte %llu: out of order (says it is record %llu)", ri,
		             (unsigned long long)at, (unsigned long long)idx);
	if (body < 8) return rfail(r, "record %llu at byte %llu: body too short", ri, (unsigned long long)at);
	uint32_t nt = rd32(b + p), nl = rd32(b + p + 4);
	p += 8;
	if (nt > TNS_MAX_TENSORS || nl > TNS_MAX_NAME || PAD8(nl) > end - p)
		return rfail(r, "record %llu at byte %llu: bad tensor count or name length", ri, (unsigned long long)at);
	if ((int)nt > r->tcap) {
		tns_tensor *t = realloc(r->t, nt * sizeof *t);
		if (!t) return rfail(r, "out of memory");
		r->t = t;
		r->tcap = (int)nt;
	}
	/* names: the record's and every tensor's, NUL-terminated, in one arena */
	size_t need = nl + 1 + (size_t)nt * (TNS_MAX_NAME + 1);
	if (need > len + nt + 1) need = len + nt + 1;   /* cannot exceed the frame */
	if (need > r->ncap) {
		char *n = realloc(r->names, need);
		if (!n) return rfail(r, "out of memory");
		r->names = n;
		r->ncap = need;
	}
	char *nm = r->names;
	memcpy(nm, b + p, nl);
	nm[nl] = 0;
	if (memchr(nm, 0, nl)) return rfail(r, "record %llu at byte %llu: NUL in record name", ri, (unsigned long long)at);
	rec->name = nm;
	nm += nl + 1;
	p += PAD8(nl);
	uint64_t data_end = 0;
	for (uint32_t i = 0; i < nt; i++) {
		tns_tensor *t = &r->t[i];
		if (DESC > end - p)
			return rfail(r, "record %llu at byte %llu: tensor %u descriptor cut short", ri, (unsigned long long)at, i);
		unsigned dt = b[p], nd = b[p + 1], tl = (unsigned)b[p + 2] | (unsigned)b[p + 3] << 8;
		uint64_t off = rd64(b + p + 40), nb = rd64(b + p + 48);
		if (tns_dtype_size(dt) == 0)
			return rfail(r, "record %llu at byte %llu: tensor %u has unknown dtype %u", ri, (unsigned long long)at, i, dt);
		if (nd > TNS_MAX_DIMS)
			return rfail(r, "record %llu at byte %llu: tensor %u has %u dimensions (max %d)", ri, (unsigned long long)at, i, nd, TNS_MAX_DIMS);
		if (tl == 0 || tl > TNS_MAX_NAME || PAD8(tl) > end - p - DESC)
			return rfail(r, "record %llu at byte %llu: tensor %u has a bad name length", ri, (unsigned long long)at, i);
		t->dtype = dt;
		t->ndim = (int)nd;
		uint64_t numel = 1;
		for (unsigned d = 0; d < TNS_MAX_DIMS; d++) {
			uint64_t v = rd64(b + p + 8 + 8 * d);
			if (d >= nd) { t->dim[d] = 0; continue; }
			if (v > TNS_MAX_FRAME || (v && numel > TNS_MAX_FRAME / v))
				return rfail(r, "record %llu at byte %llu: tensor %u shape too large", ri, (unsigned long long)at, i);
			t->dim[d] = (int64_t)v;
			numel *= v;
		}
		if (numel * tns_dtype_size(dt) != nb || off % TNS_ALIGN || off < data_end || off > len || nb > len - off)
			return rfail(r, "record %llu at byte %llu: tensor %u has an inconsistent size or offset", ri, (unsigned long long)at, i);
		data_end = off + nb;
		memcpy(nm, b + p + DESC, tl);
		nm[tl] = 0;
		if (memchr(nm, 0, tl)) return rfail(r, "record %llu at byte %llu: NUL in tensor name", ri, (unsigned long long)at);
		t->name = nm;
		nm += tl + 1;
		t->data = r->buf + off;
		t->nbytes = nb;
		p += DESC + PAD8(tl);
	}
	if (nt && r->t[0].data && (uint64_t)((unsigned char *)r->t[0].data - b) < p)
		return rfail(r, "record %llu at byte %llu: tensor data overlaps the descriptors", ri, (unsigned long long)at);
	rec->n = (int)nt;
	rec->t = r->t;
	rec->index = r->nrec;
	rec->offset = at;
	rec->mem = NULL;
	return 0;
}

int tns_read(tns_reader *r, tns_record *rec)
{
	uint64_t len, at = r->pos;
	if (r->state) return r->state > 0 ? 0 : -1;
	uint32_t crc_before = r->crc;
	int c = read_frame(r, &len);
	if (c < 0) return -1;
	if (c == 0)
		return rfail(r, "truncated: stream ends after %llu records at byte %llu without an end frame%s",
		             (unsigned long long)r->nrec, (unsigned long long)at, upstream(r));
	if (c == 'H') return rfail(r, "byte %llu: a second header frame", (unsigned long long)at);
	if (c == 'E') {
		const unsigned char *b = r->buf;
		uint64_t n = rd64(b + 16), bytes = rd64(b + HEAD);
		uint32_t scrc = rd32(b + HEAD + 8);
		if (n != r->nrec)
			return rfail(r, "end frame at byte %llu: says %llu records, %llu were read", (unsigned long long)at,
			             (unsigned long long)n, (unsigned long long)r->nrec);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
		scrc = crc_before;
#endif
		if (bytes != at || scrc != crc_before)
			return rfail(r, "end frame at byte %llu: stream length or CRC does not match", (unsigned long long)at);
		unsigned char extra;
		ssize_t k = rread(r, &extra, 1);
		if (k != 0)
			return rfail(r, "byte %llu: data after the end frame", (unsigned long long)r->pos);
		r->state = 1;
		return 0;
	}
	if (parse_record(r, len, at, rec) < 0) return -1;
	r->nrec++;
	return 1;
}

void tns_close_reader(tns_reader *r)
{
	if (!r) return;
	if (r->bg) bgzf_close(r->bg);
	if (r->hf) hclose_abruptly(r->hf);
	tns_header_free(&r->hdr);
	free(r->buf);
	free(r->t);
	free(r->names);
	free(r->path);
	free(r);
}

const tns_tensor *tns_get(const tns_record *rec, const char *name)
{
	for (int i = 0; i < rec->n; i++)
		if (strcmp(rec->t[i].name, name) == 0) return &rec->t[i];
	return NULL;
}

const tns_tensor *tns_get_typed(const tns_record *rec, const char *name, tns_dtype dtype, int ndim)
{
	const tns_tensor *t = tns_get(rec, name);
	if (!t || t->dtype != dtype || (ndim >= 0 && t->ndim != ndim)) return NULL;
	return t;
}

void tns_record_copy(tns_record *dst, const tns_record *src)
{
	size_t bytes = strlen(src->name) + 1, at;
	for (int i = 0; i < src->n; i++) bytes += PAD64(src->t[i].nbytes) + strlen(src->t[i].name) + 1;
	void *mem = NULL;
	if (posix_memalign(&mem, TNS_ALIGN, PAD64(bytes) + TNS_ALIGN) != 0) { fputs("tns: out of memory\n", stderr); abort(); }
	unsigned char *p = mem;
	*dst = *src;
	dst->t = malloc((src->n ? src->n : 1) * sizeof *dst->t);
	if (!dst->t) { fputs("tns: out of memory\n", stderr); abort(); }
	at = 0;
	for (int i = 0; i < src->n; i++) {            /* payloads first: aligned */
		dst->t[i] = src->t[i];
		dst->t[i].data = p + at;
		if (src->t[i].nbytes) memcpy(p + at, src->t[i].data, src->t[i].nbytes);
		at += PAD64(src->t[i].nbytes);
	}
	for (int i = 0; i < src->n; i++) {
		size_t l = strlen(src->t[i].name) + 1;
		memcpy(p + at, src->t[i].name, l);
		dst->t[i].name = (char *)p + at;
		at += l;
	}
	memcpy(p + at, src->name, strlen(src->name) + 1);
	dst->name = (char *)p + at;
	dst->mem = mem;
}

void tns_record_free(tns_record *r)
{
	if (!r->mem) return;          /* a reader's record owns nothing */
	free(r->mem);
	free(r->t);
	memset(r, 0, sizeof *r);
}

/* ---- writing ------------------------------------------------------------- */

struct tns_writer {
	char *path, *tmp;             /* tmp NULL for stdout */
	int fd;
	BGZF *bg;
	unsigned char *buf;           /* small frames are gathered here */
	size_t n, cap;
	uint64_t pos, nrec;
	uint32_t crc;
	crc_ops ops;
	int failed, err_no;
	char err[512];
};

static int wfail(tns_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int wfail(tns_writer *w, const char *fmt, ...)
{
	va_list ap;
	int e = errno;
	if (w->failed) return -1;
	/* stdout by the name every seqlm message gives it (cli.c too) */
	int k = snprintf(w->err, sizeof w->err, "%s: ",
	                 w->path && strcmp(w->path, "-") != 0 ? w->path : "standard output");
	va_start(ap, fmt);
	vsnprintf(w->err + k, sizeof w->err - k, fmt, ap);
	va_end(ap);
	w->failed = 1;
	w->err_no = e;
	errno = e;
	return -1;
}

const char *tns_werror(const tns_writer *w) { return w->err; }
int tns_werrno(const tns_writer *w) { return w->err_no; }
uint64_t tns_writer_nrecords(const tns_writer *w) { return w->nrec; }
const char *tns_writer_path(const tns_writer *w) { return w->path; }

static int wflush(tns_writer *w)
{
	size_t off = 0;
	if (w->bg) {
		if (w->n && bgzf_write(w->bg, w->buf, w->n) != (ssize_t)w->n)
			return wfail(w, "write failed (BGZF)");
		w->n = 0;
		return 0;
	}
	while (off < w->n) {
		ssize_t k = write(w->fd, w->buf + off, w->n - off);
		if (k < 0 && errno == EINTR) continue;
		if (k < 0) return wfail(w, "write failed: %s", strerror(errno));
		off += (size_t)k;
	}
	w->n = 0;
	return 0;
}

/* writes p[0..n): through the gather buffer when small, directly when large */
static int wput(tns_writer *w, const void *p, size_t n)
{
	if (w->failed) return -1;
	if (w->n + n <= w->cap) {
		memcpy(w->buf + w->n, p, n);
		w->n += n;
		return 0;
	}
	if (wflush(w) < 0) return -1;
	if (n <= w->cap / 2) {
		memcpy(w->buf, p, n);
		w->n = n;
		return 0;
	}
	if (w->bg) {
		if (bgzf_write(w->bg, p, n) != (ssize_t)n) return wfail(w, "write failed (BGZF)");
		return 0;
	}
	const char *c = p;
	while (n) {
		ssize_t k = write(w->fd, c, n);
		if (k < 0 && errno == EINTR) continue;
		if (k < 0) return wfail(w, "write failed: %s", strerror(errno));
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

static int wzeros(tns_writer *w, size_t n) { return n ? wput(w, zeros, n) : 0; }

tns_writer *tns_create(const char *path, const tns_header *h, int flags, char *err, size_t errlen)
{
	tns_writer *w = calloc(1, sizeof *w);
	if (!w) { snprintf(err, errlen, "out of memory"); return NULL; }
	w->fd = -1;
	if (path && strcmp(path, "-") != 0) {
		w->path = strdup(path);
		if (asprintf(&w->tmp, "%s.tmp", path) < 0) w->tmp = NULL;
		if (!w->path || !w->tmp) { snprintf(err, errlen, "out of memory"); goto fail; }
		struct stat st;
		int exists = stat(path, &st) == 0;
		if (exists && S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "is a directory");
			goto fail;
		}
		if (exists && !S_ISREG(st.st_mode)) {
			/* a device or FIFO (/dev/null, /dev/stdout): written in place;
			 * NAME.tmp + rename() would replace it with a regular file */
			free(w->tmp);
			w->tmp = NULL;
			w->fd = open(path, O_WRONLY | O_CLOEXEC);
			if (w->fd < 0) { snprintf(err, errlen, "cannot open: %s", strerror(errno)); goto fail; }
		} else {
			w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (w->fd < 0) {
				snprintf(err, errlen, "cannot create %s: %s", w->tmp, strerror(errno));
				free(w->tmp); w->tmp = NULL;    /* nothing to remove */
				goto fail;
			}
		}
	} else {
		w->path = strdup("-");
		if (!(flags & TNS_W_FORCE) && isatty(STDOUT_FILENO)) {
			snprintf(err, errlen, "refusing to write binary output to a terminal");
			goto fail;
		}
		w->fd = STDOUT_FILENO;
		widen_pipe(w->fd);
	}
	if (flags & TNS_W_BGZF) {
		w->bg = bgzf_dopen(dup(w->fd), "w");
		if (!w->bg) { snprintf(err, errlen, "cannot start BGZF compression"); goto fail; }
	}
	w->cap = 1 << 20;
	w->buf = malloc(w->cap);
	if (!w->buf) { snprintf(err, errlen, "out of memory"); goto fail; }
	/* header frame */
	size_t tl;
	char *text = header_text(h, &tl);
	if (!text) { snprintf(err, errlen, "out of memory"); goto fail; }
	if (tl > TNS_MAX_HEADER) { free(text); snprintf(err, errlen, "header too large"); goto fail; }
	unsigned char head[HEAD] = {'T', 'N', 'S', 'H'};
	uint64_t len = PAD64(HEAD + tl);
	wr64(head + 8, len);
	wr64(head + 16, TNS_VERSION);
	wr64(head + 24, tl);
	uint32_t crc = crc_update(0, head + 8, HEAD - 8);
	crc = crc_update(crc, text, tl);
	crc = crc_update(crc, zeros, len - HEAD - tl);
	wr32(head + 4, crc);
	w->crc = stream_crc_add(0, head, crc, len, &w->ops);
	wput(w, head, HEAD);
	wput(w, text, tl);
	wzeros(w, len - HEAD - tl);
	free(text);
	w->pos = len;
	if (w->failed) { snprintf(err, errlen, "%s", w->err); goto fail; }
	return w;
fail:
	tns_abort(w);
	return NULL;
}

void tns_writer_threads(tns_writer *w, int n)
{
	if (w->bg && n > 1) bgzf_mt(w->bg, n, 256);
}

int tns_write(tns_writer *w, const char *name, int n, const tns_tensor *t)
{
	unsigned char head[HEAD] = {'T', 'N', 'S', 'R'}, desc[DESC];
	size_t nl = strlen(name);
	if (w->failed) return -1;
	if (nl > TNS_MAX_NAME) return wfail(w, "record name too long");
	if (n < 0 || n > TNS_MAX_TENSORS) return wfail(w, "too many tensors in a record");
	/* layout: descriptors, then payloads at 64-byte offsets */
	uint64_t p = HEAD + 8 + PAD8(nl);
	for (int i = 0; i < n; i++) {
		size_t tl = strlen(t[i].name);
		if (tl == 0 || tl > TNS_MAX_NAME) return wfail(w, "tensor name empty or too long");
		if (tns_dtype_size(t[i].dtype) == 0 || t[i].ndim < 0 || t[i].ndim > TNS_MAX_DIMS)
			return wfail(w, "tensor %s: bad dtype or rank", t[i].name);
		if ((uint64_t)tns_numel(&t[i]) * tns_dtype_size(t[i].dtype) != t[i].nbytes)
			return wfail(w, "tensor %s: size does not match its shape", t[i].name);
		p += DESC + PAD8(tl);
	}
	uint64_t body_end = p;
	uint64_t *off = malloc((n ? n : 1) * sizeof *off);
	if (!off) return wfail(w, "out of memory");
	for (int i = 0; i < n; i++) {
		p = PAD64(p);
		off[i] = p;
		p += t[i].nbytes;
	}
	uint64_t len = PAD64(p < 64 ? 64 : p);
	if (len > TNS_MAX_FRAME) { free(off); return wfail(w, "record %s is too large", name); }
	wr64(head + 8, len);
	wr64(head + 16, w->nrec);
	wr64(head + 24, p - HEAD);
	/* the directory (record head fields, descriptors) goes to a scratch
	 * buffer so the CRC can be computed before anything is written */
	size_t dl = body_end - HEAD;
	unsigned char *dir = calloc(1, dl);
	if (!dir) { free(off); return wfail(w, "out of memory"); }
	wr32(dir, (uint32_t)n);
	wr32(dir + 4, (uint32_t)nl);
	memcpy(dir + 8, name, nl);
	size_t q = 8 + PAD8(nl);
	for (int i = 0; i < n; i++) {
		size_t tl = strlen(t[i].name);
		memset(desc, 0, sizeof desc);
		desc[0] = (unsigned char)t[i].dtype;
		desc[1] = (unsigned char)t[i].ndim;
		desc[2] = tl & 0xff;
		desc[3] = (tl >> 8) & 0xff;
		for (int d = 0; d < t[i].ndim; d++) wr64(desc + 8 + 8 * d, (uint64_t)t[i].dim[d]);
		wr64(desc + 40, off[i]);
		wr64(desc + 48, t[i].nbytes);
		memcpy(dir + q, desc, DESC);
		memcpy(dir + q + DESC, t[i].name, tl);
		q += DESC + PAD8(tl);
	}
	uint32_t crc = crc_update(0, head + 8, HEAD - 8);
	crc = crc_update(crc, dir, dl);
	uint64_t at = body_end;
	for (int i = 0; i < n; i++) {
		crc = crc_update(crc, zeros, off[i] - at);
		crc = crc_update(crc, t[i].data, t[i].nbytes);
		at = off[i] + t[i].nbytes;
	}
	crc = crc_update(crc, zeros, len - at);
	wr32(head + 4, crc);
	w->crc = stream_crc_add(w->crc, head, crc, len, &w->ops);
	wput(w, head, HEAD);
	wput(w, dir, dl);
	at = body_end;
	for (int i = 0; i < n; i++) {
		wzeros(w, off[i] - at);
		if (t[i].nbytes) wput(w, t[i].data, t[i].nbytes);
		at = off[i] + t[i].nbytes;
	}
	wzeros(w, len - at);
	free(dir);
	free(off);
	if (w->failed) return -1;
	w->pos += len;
	w->nrec++;
	return 0;
}

int tns_write_record(tns_writer *w, const tns_record *rec, int n_extra, const tns_tensor *extra)
{
	int n = rec->n + n_extra;
	tns_tensor *t = malloc((n ? n : 1) * sizeof *t);
	if (!t) return wfail(w, "out of memory");
	memcpy(t, rec->t, rec->n * sizeof *t);
	if (n_extra) memcpy(t + rec->n, extra, n_extra * sizeof *t);
	int rc = tns_write(w, rec->name, n, t);
	free(t);
	return rc;
}

static void wclose_fds(tns_writer *w)
{
	if (w->bg) { bgzf_close(w->bg); w->bg = NULL; }
	if (w->fd >= 0 && w->fd != STDOUT_FILENO) close(w->fd);
	w->fd = -1;
}

int tns_close(tns_writer *w)
{
	unsigned char end[64] = {'T', 'N', 'S', 'E'};
	int rc = 0;
	wr64(end + 8, 64);
	wr64(end + 16, w->nrec);
	wr64(end + 24, 16);
	wr64(end + HEAD, w->pos);
	wr32(end + HEAD + 8, w->crc);
	wr32(end + 4, crc_update(0, end + 8, 56));
	wput(w, end, sizeof end);
	wflush(w);
	if (w->bg) {
		if (bgzf_close(w->bg) < 0) wfail(w, "write failed (BGZF)");
		w->bg = NULL;
	}
	if (w->fd == STDOUT_FILENO) {
		/* nothing buffered in stdio; a failed write was reported above */
	} else if (w->fd >= 0) {
		if (close(w->fd) < 0) wfail(w, "close failed: %s", strerror(errno));
		w->fd = -1;
		if (!w->failed && w->tmp && rename(w->tmp, w->path) < 0)
			wfail(w, "cannot rename %s to %s: %s", w->tmp, w->path, strerror(errno));
	}
	if (w->failed) {
		rc = -1;
		if (w->tmp) unlink(w->tmp);
		return rc;              /* the caller reads tns_werror(), then tns_abort() */
	}
	free(w->buf);
	free(w->path);
	free(w->tmp);
	free(w);
	return 0;
}

void tns_abort(tns_writer *w)
{
	if (!w) return;
	wclose_fds(w);
	if (w->tmp) unlink(w->tmp);
	free(w->buf);
	free(w->path);
	free(w->tmp);
	free(w);
}
