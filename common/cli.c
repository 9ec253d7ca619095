/* cli.c -- the conventions every seqlm program shares (see cli.h). */
#include "cli.h"
#include "mm.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cblas.h>
#include <htslib/hts.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

const char *cli_prog = "seqlm";
int cli_verbose = 0;

/* OpenBLAS's pthread build: stops the worker pool; the next BLAS call starts
 * it again from the calling thread, whose MXCSR (FTZ/DAZ) the workers then
 * inherit.  The pool started at load time, before main(), did not. */
extern void blas_thread_shutdown_(void) __attribute__((weak));

static void set_ftz_daz(void)
{
#if defined(__x86_64__) || defined(__i386__)
	/* FTZ (bit 15) and DAZ (bit 6): subnormals make sgemm ~200x slower */
	_mm_setcsr(_mm_getcsr() | 0x8040);
#endif
}

void cli_init(cli_opts *o, int argc, char **argv)
{
	const char *p = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
	cli_prog = p ? p + 1 : argc > 0 && argv[0] ? argv[0] : "seqlm";
	memset(o, 0, sizeof *o);
	o->threads = 1;
	o->argc = argc;
	o->argv = argv;
	hts_set_log_level(HTS_LOG_OFF);   /* we report errors ourselves; -v turns it on */
	signal(SIGPIPE, SIG_DFL);   /* a closed pipe ends us quietly, like cat */
	opterr = 0;                 /* cli_common_opt() words the message */
	set_ftz_daz();
	cli_blas_single();
}

void cli_blas_single(void)
{
	if (blas_thread_shutdown_) blas_thread_shutdown_();
	openblas_set_num_threads(1);
	/* setting one thread starts an idle worker that spins in sched_yield:
	 * stop it again; OpenBLAS then runs on the caller alone */
	if (blas_thread_shutdown_) blas_thread_shutdown_();
}

/* The temporary files of the outputs being written (NAME.tmp), removed if
 * the program dies, so that no partial output is ever left behind.  (The
 * one piece of global state besides the program name: die() can be called
 * from anywhere.) */
enum { MAX_TMP = 16 };
static char *tmp_files[MAX_TMP];

static void tmp_register(const char *path)
{
	for (int i = 0; i < MAX_TMP; i++)
		if (!tmp_files[i]) {
			if (asprintf(&tmp_files[i], "%s.tmp", path) < 0) tmp_files[i] = NULL;
			return;
		}
}

static void tmp_forget(const char *path)
{
	size_t n = strlen(path);
	for (int i = 0; i < MAX_TMP; i++)
		if (tmp_files[i] && strncmp(tmp_files[i], path, n) == 0 && strcmp(tmp_files[i] + n, ".tmp") == 0) {
			free(tmp_files[i]);
			tmp_files[i] = NULL;
			return;
		}
}

/* An error ends the program at once: stdout's buffer is flushed (vmsg), the
 * temporary outputs are removed, and no exit handlers run -- nothing else is
 * left to tidy in a dying process, and LeakSanitizer would only report the
 * buffers of the interrupted work. */
static void quit(int code) __attribute__((noreturn));
static void quit(int code)
{
	for (int i = 0; i < MAX_TMP; i++)
		if (tmp_files[i]) unlink(tmp_files[i]);
	fflush(stderr);
	_exit(code);
}

/* a live progress line (progress.h) is on the terminal without its newline:
 * a message first ends it, so as not to be glued to its end */
static int stderr_open_line;

void cli_stderr_open_line(int open) { stderr_open_line = open; }

static void msg_start(void)
{
	fflush(stdout);
	if (stderr_open_line) { fputc('\n', stderr); stderr_open_line = 0; }
}

static void vmsg(const char *kind, const char *fmt, va_list ap)
{
	msg_start();
	fprintf(stderr, "%s: %s", cli_prog, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt); vmsg("error: ", fmt, ap); va_end(ap);
	quit(EXIT_FAILURE);
}

void die_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt); vmsg("error: ", fmt, ap); va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", cli_prog);
	quit(EXIT_USAGE);
}

void warn(const char *fmt, ...)
{
	va_list ap;
	if (cli_verbose < 0) return;
	va_start(ap, fmt); vmsg("warning: ", fmt, ap); va_end(ap);
}

void info(const char *fmt, ...)
{
	va_list ap;
	if (cli_verbose < 0) return;
	va_start(ap, fmt); vmsg("", fmt, ap); va_end(ap);
}

void die_file(const char *file, const char *fmt, ...)
{
	va_list ap;
	msg_start();
	/* "-" is how the command line says standard input; a message says it
	 * in words, as it says "standard output" */
	fprintf(stderr, "%s: error: %s: ", cli_prog, file && *file && strcmp(file, "-") != 0 ? file : "standard input");
	va_start(ap, fmt); vfprintf(stderr, fmt, ap); va_end(ap);
	fputc('\n', stderr);
	quit(EXIT_FAILURE);
}

void cli_write_failed(const char *what)
{
	if (errno == EPIPE) quit(EXIT_FAILURE);  /* reader went away: say nothing */
	die("%s: write failed: %s", what ? what : "-", strerror(errno));
}

void cli_close_stdout(void)
{
	int bad = fflush(stdout) != 0 || ferror(stdout);
	int e = errno;
	if (fclose(stdout) != 0 && !bad) { bad = 1; e = errno; }
	if (bad) { errno = e; cli_write_failed("standard output"); }
}

int cli_common_opt(cli_opts *o, int c, const char *arg, void (*usage)(FILE *))
{
	switch (c) {
	case 't': o->threads = (int)cli_long("-t", arg, 1, 1024); return 1;
	case 'q': case CLI_OPT_QUIET: cli_verbose = -1; return 1;
	case 'v':
		if (cli_verbose >= 0) cli_verbose++;
		hts_set_log_level(cli_verbose > 1 ? HTS_LOG_INFO : HTS_LOG_WARNING);
		return 1;
	case 'o': o->output = strcmp(arg, "-") == 0 ? NULL : arg; return 1;
	case 'f': o->force = 1; return 1;
	case CLI_OPT_HELP: usage(stdout); cli_close_stdout(); exit(0);
	case CLI_OPT_VERSION: cli_version(); cli_close_stdout(); exit(0);
	case '?': case ':':
		if (optopt && optopt < 0x1000 && optopt != '?' && (!o->argv[optind - 1] || o->argv[optind - 1][1] != '-'))
			die_usage("option -%c is unknown or needs a value", optopt);
		die_usage("option %s is unknown or needs a value", optind > 0 ? o->argv[optind - 1] : "?");
	}
	return 0;
}

void cli_need_input(int nfiles, void (*usage)(FILE *))
{
	if (nfiles == 0 && isatty(STDIN_FILENO)) {
		usage(stderr);
		quit(EXIT_USAGE);
	}
}

void cli_check_binary_out(const cli_opts *o)
{
	if (!o->output && !o->force && isatty(STDOUT_FILENO))
		die_usage("refusing to write binary output to a terminal (use -o FILE, a pipe, or -f)");
}

void cli_version(void)
{
	printf("%s (seqlm) %s\n", cli_prog, SEQLM_VERSION);
	printf("htslib %s\n", hts_version());
	const char *why = mm_bf16_unavailable();
	printf("%s (--precision bf16: %s)\n", mm_backend(), why ? "no" : "yes");
	/* openblas_get_config() names the library itself ("OpenBLAS 0.3.21
	 * NO_LAPACKE DYNAMIC_ARCH ... SkylakeX"), the core in use included */
	const char *cfg = openblas_get_config();
	if (strncmp(cfg, "OpenBLAS ", 9) == 0) cfg += 9;
	printf("OpenBLAS %s\n", cfg);
}

int cli_precision(const char *arg)
{
	if (strcmp(arg, "fp32") == 0) return 0;
	if (strcmp(arg, "bf16") != 0) die_usage("--precision: fp32 or bf16, not '%s'", arg);
	const char *why = mm_bf16_unavailable();
	if (why) die("--precision bf16: %s", why);
	return 1;
}

long cli_long(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	/* accept k/M/G suffixes: -n 10k, --max-train-bytes 20M */
	if (errno == 0 && end != s && *end && !end[1]) {
		long m = *end == 'k' || *end == 'K' ? 1000L : *end == 'M' ? 1000000L : *end == 'G' ? 1000000000L : 0;
		if (m && v <= LONG_MAX / m && v >= LONG_MIN / m) { v *= m; end++; }
	}
	if (errno || end == s || *end || v < lo || v > hi)
		die_usage("%s: expected an integer in [%ld, %ld], got '%s'", opt, lo, hi, s);
	return v;
}

double cli_double(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		die_usage("%s: expected a number in [%g, %g], got '%s'", opt, lo, hi, s);
	return v;
}

int cli_int_list(const char *opt, const char *s, long **out)
{
	int n = 0, m = 8;
	long *v = xmalloc(m * sizeof *v);
	const char *p = s;
	while (*p) {
		char *end;
		long a, b;
		errno = 0;
		a = strtol(p, &end, 10);
		if (end == p || errno) die_usage("%s: bad list '%s'", opt, s);
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p || errno || b < a || b - a > 1000000) die_usage("%s: bad range in '%s'", opt, s);
		}
		for (long x = a; x <= b; x++) {
			if (n == m) v = xrealloc(v, (m *= 2) * sizeof *v);
			v[n++] = x;
		}
		if (*end == ',') end++;
		else if (*end) die_usage("%s: bad list '%s'", opt, s);
		p = end;
	}
	if (n == 0) die_usage("%s: empty list", opt);
	*out = v;
	return n;
}

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) die("out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p) die("out of memory (%zu x %zu bytes)", n, m);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) die("out of memory (%zu bytes)", n);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p) die("out of memory");
	return p;
}

void *xaligned(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, n ? (n + 63) & ~(size_t)63 : 64) != 0)
		die("out of memory (%zu bytes)", n);
	return p;
}

tns_writer *cli_tns_create(const cli_opts *o, const char *path, const tns_header *h, int flags)
{
	char err[512];
	if (o->force) flags |= TNS_W_FORCE;
	tns_writer *w = tns_create(path, h, flags, err, sizeof err);
	if (!w) {
		if (!path || strcmp(path, "-") == 0) die_usage("%s", err);
		die_file(path, "%s", err);
	}
	if (path && strcmp(path, "-") != 0) tmp_register(path);
	return w;
}

void cli_tns_close(tns_writer *w)
{
	char *path = xstrdup(tns_writer_path(w));
	if (tns_close(w) == 0) { tmp_forget(path); free(path); return; }
	if (tns_werrno(w) == EPIPE) quit(EXIT_FAILURE);
	msg_start();
	fprintf(stderr, "%s: error: %s\n", cli_prog, tns_werror(w));
	tns_abort(w);
	quit(EXIT_FAILURE);
}

FILE *cli_out_open(cli_out *out, const char *path)
{
	memset(out, 0, sizeof *out);
	if (!path || strcmp(path, "-") == 0) return out->fp = stdout;
	out->path = xstrdup(path);
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		/* a device or FIFO (/dev/null): in place, never renamed over */
		out->fp = fopen(path, "w");
		if (!out->fp) die_file(path, "cannot open: %s", strerror(errno));
		return out->fp;
	}
	if (asprintf(&out->tmp, "%s.tmp", path) < 0) die("out of memory");
	out->fp = fopen(out->tmp, "w");
	if (!out->fp) die_file(path, "cannot create %s: %s", out->tmp, strerror(errno));
	tmp_register(path);
	return out->fp;
}

void cli_out_close(cli_out *out)
{
	if (!out->path) { cli_close_stdout(); return; }
	int bad = fflush(out->fp) != 0 || ferror(out->fp);
	int e = errno;
	if (fclose(out->fp) != 0 && !bad) { bad = 1; e = errno; }
	out->fp = NULL;
	if (!bad && out->tmp && rename(out->tmp, out->path) < 0) { bad = 1; e = errno; }
	if (bad) {
		if (out->tmp) unlink(out->tmp);
		die_file(out->path, "write failed: %s", strerror(e));
	}
	if (out->tmp) tmp_forget(out->path);
	free(out->path);
	free(out->tmp);
	memset(out, 0, sizeof *out);
}

void cli_out_abort(cli_out *out)
{
	if (!out->path) return;
	if (out->fp) fclose(out->fp);
	if (out->tmp) { unlink(out->tmp); tmp_forget(out->path); }
	free(out->path);
	free(out->tmp);
	memset(out, 0, sizeof *out);
}
