/* tnsview -- inspect a tensor stream: header, records, values; unpack it to
 * NumPy .npy files; count or check it; copy it (plain or BGZF). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "base/cli.h"
#include "io/tns.h"
#include "io/tnsout.h"
#include "tok/vocab.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: tnsview [options] [FILE.tns|-]\n"
"Print a tensor stream (seqlm .tns, plain or BGZF) as text: the header\n"
"lines (the vocabulary's @VO lines as one summary line), then per record\n"
"its number and name and, per tensor, its name, dtype, shape and first\n"
"values.\n"
"\n"
"Modes (default: header and records):\n"
"      --header        print only the header lines, all of them (@VO too)\n"
"      --count         print only the number of records\n"
"  -c, --check         check structure and CRCs; print a summary, exit 0 if\n"
"                      the stream is intact, 1 (and what is wrong) if not\n"
"      --npy DIR       unpack every tensor to DIR/r<record>/<tensor>.npy, and\n"
"                      write DIR/header.txt and DIR/records.tsv\n"
"      --decode        print each record's name and its tokens as strings,\n"
"                      using the vocabulary in the header\n"
"      --copy          write the stream itself (to -o or stdout); with -z BGZF\n"
"      --cat FILE...   write the records of several streams as one (to -o or\n"
"                      stdout): the shards of one lmprobe --shard run dealt\n"
"                      back into the unsharded order, other streams joined in\n"
"                      the order given; headers must agree but for @PG lines\n"
"Options:\n"
"  -n, --values N      values shown per tensor (default 8; 0: none, -1: all)\n"
"      --no-header     do not print the header lines\n"
"  -z, --bgzf          with --copy: BGZF-compress the output\n"
"  -o, --output FILE   write to FILE instead of stdout\n"
"  -f, --force         with --copy: allow binary output to a terminal\n"
"  -t, --threads N     threads (BGZF compression)\n"
"  -q, --quiet         no messages but errors\n"
"  -v, --verbose       more messages\n"
"      --help          this help\n"
"      --version       version, with htslib and OpenBLAS versions\n"
"\n"
"Exit status: 0 success, 1 error (bad or truncated stream, I/O), 2 usage.\n"
"See tnsview(1) and tns(5).\n");
}

enum { M_VIEW, M_HEADER, M_COUNT, M_CHECK, M_NPY, M_DECODE, M_COPY, M_CAT };

/* the header lines that must agree for --cat: all but @PG and the shard keys */
static int cat_line(const char *l)
{
	return strncmp(l, "@PG\t", 4) && strncmp(l, "@KV\tshard\t", 10) && strncmp(l, "@KV\tshard_block\t", 16);
}

static void cat_same_header(const tns_header *a, const char *fa, const tns_header *b, const char *fb)
{
	int i = 0, j = 0;
	for (;;) {
		while (i < a->n && !cat_line(a->line[i])) i++;
		while (j < b->n && !cat_line(b->line[j])) j++;
		if (i == a->n || j == b->n) break;
		if (strcmp(a->line[i], b->line[j]))
			die_file(fb, "its header differs from %s's at '%.60s' (--cat joins streams of one kind)", fa, b->line[j]);
		i++, j++;
	}
	if (i < a->n || j < b->n)
		die_file(fb, "its header has %s lines than %s's (--cat joins streams of one kind)", j < b->n ? "more" : "fewer", fa);
}

/* the next record of one of --cat's inputs (1), or its verified end (0) */
static int cat_read(tns_reader *r, tns_record *rec, tns_writer *w, const char *file)
{
	int rc = tns_read(r, rec);
	if (rc < 0) {
		tns_abort(w);
		die_file(file, "%s", tns_error(r));
	}
	return rc;
}

/* --cat: the records of n streams as one.  The shards of one lmprobe
 * --shard run (@KV shard K/N, shard_block G: block b of G windows went to
 * shard b mod N + 1) are dealt back block by block, so the output holds the
 * unsharded run's records in its order; other streams follow each other. */
static void cat_streams(const cli_opts *o, int n, char **files, int bgzf, int argc, char **argv)
{
	char err[512];
	tns_reader **r = xcalloc(n, sizeof *r);
	int *order = xmalloc(n * sizeof *order), sharded = 0;
	long G = 0;
	for (int i = 0; i < n; i++) order[i] = -1;
	for (int i = 0; i < n; i++) {
		if (!(r[i] = tns_open(files[i], err, sizeof err))) die_file(files[i], "%s", err);
		const tns_header *h = tns_reader_header(r[i]);
		const char *sh = tns_header_get(h, "shard");
		int64_t g = 0;
		if (i == 0) sharded = sh != NULL;
		if ((sh != NULL) != sharded)
			die_file(files[i], "%s: --cat joins the shards of one run, or whole streams, not both",
			         sh ? "a shard among whole streams" : "a whole stream among shards");
		if (i) cat_same_header(tns_reader_header(r[0]), files[0], h, files[i]);
		if (!sharded) { order[i] = i; continue; }
		int k, N;
		char tail;
		if (sscanf(sh, "%d/%d%c", &k, &N, &tail) != 2 || k < 1 || k > N || tns_header_get_int(h, "shard_block", &g) || g < 1)
			die_file(files[i], "bad @KV shard '%s' or shard_block", sh);
		if (N != n) die_file(files[i], "shard %d of %d, but %d streams given: --cat needs every shard once", k, N, n);
		if (order[k - 1] >= 0) die_file(files[i], "shard %d/%d again (also %s)", k, N, files[order[k - 1]]);
		if (i && g != G) die_file(files[i], "blocks of %" PRId64 " windows, %s's of %ld", g, files[0], G);
		order[k - 1] = i, G = (long)g;
	}
	tns_header hh;
	tns_header_copy(&hh, tns_reader_header(r[order[0]]));
	tns_header_remove(&hh, "@KV\tshard\t");
	tns_header_remove(&hh, "@KV\tshard_block\t");
	tns_header_add_pg(&hh, "tnsview", SEQLM_VERSION, argc, argv, NULL);
	tns_writer *w = cli_tns_create(o, o->output, &hh, bgzf ? TNS_W_BGZF : 0);
	tns_writer_threads(w, o->threads);
	tns_header_free(&hh);
	tns_record rec;
	for (long b = 0, s = 0; s < n; b++) {
		if (!sharded) s = b;
		int i = order[sharded ? b % n : s];
		long got = 0;
		int rc;
		while ((!sharded || got < G) && (rc = cat_read(r[i], &rec, w, files[i])) > 0) {
			if (tns_write_record(w, &rec, 0, NULL) < 0) cli_tns_close(w);
			got++;
		}
		if (sharded && got == G) continue;
		if (!sharded) { s++; continue; }
		/* a short block ends the stream: every shard must be at its end */
		for (int j = 0; j < n; j++) {
			if (j == i) continue;
			if (cat_read(r[j], &rec, w, files[j]) > 0) {
				tns_abort(w);
				die_file(files[j], "more windows than its place in the block order allows (shards of different runs?)");
			}
		}
		break;
	}
	cli_tns_close(w);
	for (int i = 0; i < n; i++) tns_close_reader(r[i]);
	free(r);
	free(order);
}

static void print_value(FILE *fp, const tns_tensor *t, int64_t i)
{
	const unsigned char *p = t->data;
	switch (t->dtype) {
	case TNS_U8: fprintf(fp, "%u", p[i]); break;
	case TNS_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); fprintf(fp, "%" PRId32, v); break; }
	case TNS_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); fprintf(fp, "%" PRId64, v); break; }
	case TNS_F16: { uint16_t v; memcpy(&v, p + 2 * i, 2); fprintf(fp, "%.5g", tns_f16_to_f32(v)); break; }
	case TNS_F32: { float v; memcpy(&v, p + 4 * i, 4); fprintf(fp, "%.7g", v); break; }
	case TNS_F64: { double v; memcpy(&v, p + 8 * i, 8); fprintf(fp, "%.15g", v); break; }
	}
}

static void print_shape(FILE *fp, const tns_tensor *t)
{
	if (t->ndim == 0) { fputs("scalar", fp); return; }
	for (int d = 0; d < t->ndim; d++) fprintf(fp, "%s%" PRId64, d ? "x" : "", t->dim[d]);
}

/* The view's header: every line but the vocabulary, which is one @VO line
 * per token (4106 of them for 6-mers) and would push the records out of
 * `tnsview x.tns | head`; a summary line stands where it began. */
static void view_header(FILE *fp, const tns_header *h)
{
	int nvo = 0;
	for (int i = 0; i < h->n; i++) nvo += strncmp(h->line[i], "@VO\t", 4) == 0;
	for (int i = 0, said = 0; i < h->n; i++) {
		if (strncmp(h->line[i], "@VO\t", 4) != 0) fprintf(fp, "%s\n", h->line[i]);
		else if (!said++) fprintf(fp, "@VO\t(%d tokens; tnsview --header lists them)\n", nvo);
	}
}

static void view_record(FILE *fp, const tns_record *rec, long nval)
{
	fprintf(fp, "#%" PRIu64 "\t%s\n", rec->index, rec->name);
	for (int i = 0; i < rec->n; i++) {
		const tns_tensor *t = &rec->t[i];
		int64_t n = tns_numel(t), k = nval < 0 || nval > n ? n : nval;
		fprintf(fp, "\t%s\t%s\t", t->name, tns_dtype_name(t->dtype));
		print_shape(fp, t);
		for (int64_t j = 0; j < k; j++) {
			fputc(j ? ' ' : '\t', fp);
			print_value(fp, t, j);
		}
		if (k < n) fputs(" ...", fp);
		fputc('\n', fp);
	}
}

/* a tensor name as a safe file name: [A-Za-z0-9._-], never starting with '.' */
static void safe_name(const char *s, char *out, size_t len)
{
	size_t k = 0;
	if (*s == '.') out[k++] = '_';
	for (; *s && k + 1 < len; s++)
		out[k++] = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		           *s == '.' || *s == '_' || *s == '-' ? *s : '_';
	out[k] = 0;
}

static const char *npy_descr(tns_dtype d)
{
	switch (d) {
	case TNS_U8: return "|u1";
	case TNS_I32: return "<i4";
	case TNS_I64: return "<i8";
	case TNS_F16: return "<f2";
	case TNS_F32: return "<f4";
	case TNS_F64: return "<f8";
	}
	return "?";
}

static void write_npy(const char *path, const tns_tensor *t)
{
	char dict[256], shape[160] = "";
	size_t k = 0;
	for (int d = 0; d < t->ndim; d++)
		k += snprintf(shape + k, sizeof shape - k, "%" PRId64 ",%s", t->dim[d], t->ndim > 1 && d + 1 < t->ndim ? " " : "");
	int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
	                 npy_descr(t->dtype), shape);
	/* magic(6) + version(2) + len(2) + dict + spaces + '\n': a multiple of 64 */
	int total = (10 + n + 1 + 63) / 64 * 64;
	int hl = total - 10;
	cli_out o;
	FILE *fp = cli_out_open(&o, path);   /* PATH.tmp, renamed when whole */
	fwrite("\x93NUMPY\x01\x00", 1, 8, fp);
	fputc(hl & 0xff, fp);
	fputc(hl >> 8, fp);
	fwrite(dict, 1, n, fp);
	for (int i = n; i < hl - 1; i++) fputc(' ', fp);
	fputc('\n', fp);
	if (t->nbytes) fwrite(t->data, 1, t->nbytes, fp);
	cli_out_close(&o);
}

static void mkdir_or_die(const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) die_file(dir, "cannot create directory: %s", strerror(errno));
}

static void decode_record(FILE *fp, const tns_record *rec, const tok_vocab *v, const char *file)
{
	const tns_tensor *t = tns_get(rec, "tokens");
	char buf[1024];
	if (!t || t->dtype != TNS_I32) die_file(file, "record %" PRIu64 " (%s) has no i32 'tokens' tensor", rec->index, rec->name);
	const int32_t *ids = t->data;
	int64_t n = tns_numel(t);
	fputs(rec->name, fp);
	for (int64_t i = 0; i < n; i++) {
		int32_t id;
		memcpy(&id, ids + i, 4);
		if (id < 0 || id >= v->n) die_file(file, "record %" PRIu64 " (%s): token id %d outside the vocabulary (%d)", rec->index, rec->name, id, v->n);
		if (id == v->id.pad) continue;
		vocab_escape(v->tok[id], v->len[id], buf, sizeof buf);
		fputc(i ? ' ' : '\t', fp);
		fputs(buf, fp);
	}
	fputc('\n', fp);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"header", no_argument, 0, 'H'}, {"count", no_argument, 0, 'C'},
		{"check", no_argument, 0, 'c'}, {"npy", required_argument, 0, 'N'},
		{"decode", no_argument, 0, 'D'}, {"copy", no_argument, 0, 'Y'}, {"cat", no_argument, 0, 'K'},
		{"values", required_argument, 0, 'n'}, {"no-header", no_argument, 0, 'x'},
		{"bgzf", no_argument, 0, 'z'},
		CLI_LONGOPTS
	};
	cli_opts o;
	int c, mode = M_VIEW, no_header = 0, bgzf = 0;
	long nval = 8;
	const char *npydir = NULL;
	char err[512];

	cli_init(&o, argc, argv);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "cn:z", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': mode = M_HEADER; break;
		case 'C': mode = M_COUNT; break;
		case 'c': mode = M_CHECK; break;
		case 'N': mode = M_NPY; npydir = optarg; break;
		case 'D': mode = M_DECODE; break;
		case 'Y': mode = M_COPY; break;
		case 'K': mode = M_CAT; break;
		case 'n': nval = cli_long("-n", optarg, -1, 1L << 40); break;
		case 'x': no_header = 1; break;
		case 'z': bgzf = 1; break;
		default:
			if (!cli_common_opt(&o, c, optarg, usage)) { usage(stderr); return EXIT_USAGE; }
		}
	}
	if (mode == M_CAT) {
		if (argc - optind < 1) die_usage("--cat: give the streams to join");
		if (!o.output || !strcmp(o.output, "-")) cli_check_binary_out(&o);
		cat_streams(&o, argc - optind, argv + optind, bgzf, argc, argv);
		cli_close_stdout();
		return 0;
	}
	if (argc - optind > 1) die_usage("one input file at most");
	cli_need_input(argc - optind, usage);
	const char *file = optind < argc ? argv[optind] : "-";

	tns_reader *r = tns_open(file, err, sizeof err);
	if (!r) {
		if (mode == M_CHECK) printf("%s: BAD: %s\n", file, err);
		die_file(file, "%s", err);
	}
	const tns_header *h = tns_reader_header(r);
	FILE *out = stdout;
	tns_writer *w = NULL;
	tok_vocab vocab;
	tns_record rec;
	int rc;

	cli_out co = {0};
	if (mode != M_COPY && mode != M_NPY) out = cli_out_open(&co, o.output);
	if (mode == M_COPY) {
		tns_header hh;
		tns_header_copy(&hh, h);
		tns_header_add_pg(&hh, "tnsview", SEQLM_VERSION, argc, argv, NULL);
		w = cli_tns_create(&o, o.output, &hh, bgzf ? TNS_W_BGZF : 0);
		tns_writer_threads(w, o.threads);
		tns_header_free(&hh);
	}
	if (mode == M_DECODE && vocab_from_header(&vocab, h, err, sizeof err) < 0)
		die_file(file, "%s", err);
	if (mode == M_VIEW && !no_header) view_header(out, h);
	if (mode == M_HEADER) {
		for (int i = 0; i < h->n; i++) fprintf(out, "%s\n", h->line[i]);
		tns_close_reader(r);
		cli_out_close(&co);
		return 0;
	}
	FILE *records = NULL;
	cli_out ro;
	char path[8192], name[TNS_MAX_NAME + 2];
	if (mode == M_NPY) {
		mkdir_or_die(npydir);
		snprintf(path, sizeof path, "%s/header.txt", npydir);
		cli_out ho;
		FILE *fp = cli_out_open(&ho, path);
		for (int i = 0; i < h->n; i++) fprintf(fp, "%s\n", h->line[i]);
		cli_out_close(&ho);
		snprintf(path, sizeof path, "%s/records.tsv", npydir);
		records = cli_out_open(&ro, path);      /* renamed last: the folder is complete */
		fputs("record\tname\n", records);
	}
	while ((rc = tns_read(r, &rec)) > 0) {
		switch (mode) {
		case M_VIEW: view_record(out, &rec, nval); break;
		case M_DECODE: decode_record(out, &rec, &vocab, file); break;
		case M_COPY:
			if (tns_write_record(w, &rec, 0, NULL) < 0) cli_tns_close(w);
			break;
		case M_NPY:
			fprintf(records, "%" PRIu64 "\t%s\n", rec.index, rec.name);
			snprintf(path, sizeof path, "%s/r%" PRIu64, npydir, rec.index);
			mkdir_or_die(path);
			for (int i = 0; i < rec.n; i++) {
				safe_name(rec.t[i].name, name, sizeof name);
				snprintf(path, sizeof path, "%s/r%" PRIu64 "/%s.npy", npydir, rec.index, name);
				write_npy(path, &rec.t[i]);
			}
			break;
		}
	}
	if (rc < 0) {
		if (mode == M_CHECK) printf("%s: BAD: %s\n", file, tns_error(r));
		if (w) tns_abort(w);
		cli_out_abort(&co);
		die_file(file, "%s", tns_error(r));
	}
	if (mode == M_COUNT) fprintf(out, "%" PRIu64 "\n", tns_reader_nrecords(r));
	if (mode == M_CHECK)
		fprintf(out, "%s: OK: %" PRIu64 " records%s\n", file, tns_reader_nrecords(r),
		        tns_reader_is_bgzf(r) ? " (BGZF)" : "");
	if (records) cli_out_close(&ro);
	if (mode == M_DECODE) vocab_free(&vocab);
	if (w) cli_tns_close(w);
	tns_close_reader(r);
	if (mode == M_COPY || mode == M_NPY) cli_close_stdout();
	else cli_out_close(&co);
	return 0;
}
