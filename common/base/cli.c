/* cli.c -- the conventions every seqlm program shares (see cli.h). */
#include "base/cli.h"
#include "base/mm.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <limits.h>
#include <pthread.h>
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

static void signals_init(void);
static void reg_remove_all(void);

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
	signals_init();
}

void cli_blas_single(void)
{
	if (blas_thread_shutdown_) blas_thread_shutdown_();
	openblas_set_num_threads(1);
	/* setting one thread starts an idle worker that spins in sched_yield:
	 * stop it again; OpenBLAS then runs on the caller alone */
	if (blas_thread_shutdown_) blas_thread_shutdown_();
}

/* ---- outputs being written, and signals ------------------------------------
 *
 * The registry holds the temporary files this process is writing (NAME.tmp,
 * removed whenever it dies, so no partial output is ever left behind) and
 * the outputs it has finished (kept if a signal ends it, removed if an error
 * does: exit 1 means no new output file).  The signal handler reads it, so
 * every change is made with the signals blocked on the main thread, and a
 * signal that lands on another thread (par.c's workers, htslib's) is passed
 * to the main thread, where it waits until the change is done.  (With the
 * program name, the one piece of global state: die() and the handler can
 * run from anywhere.) */
enum { REG_TMP, REG_DONE };
typedef struct { char *name; int kind; } reg_entry;
static reg_entry *reg;
static int nreg, mreg;
static pthread_t main_tid;
static volatile sig_atomic_t sig_got, sig_defer;
static char sig_note[1024];              /* what is kept, for the message */
static volatile sig_atomic_t sig_quiet_empty;  /* no line when nothing was kept or removed */

void cli_reg_hold(sigset_t *old)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGINT); sigaddset(&s, SIGTERM); sigaddset(&s, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &s, old);
}

void cli_reg_release(const sigset_t *old) { pthread_sigmask(SIG_SETMASK, old, NULL); }

static void reg_add(const char *name, int kind)
{
	char *s = xstrdup(name);
	sigset_t old;
	util_at_exit(reg_remove_all);      /* an error removes it (cli_init or not) */
	cli_reg_hold(&old);
	if (nreg == mreg) {
		reg_entry *r = realloc(reg, (mreg ? 2 * mreg : 16) * sizeof *r);
		if (!r) { cli_reg_release(&old); die("out of memory"); }
		reg = r, mreg = mreg ? 2 * mreg : 16;
	}
	reg[nreg].name = s, reg[nreg].kind = kind;
	nreg++;
	cli_reg_release(&old);
}

/* 1 if name was registered as kind (and is no longer) */
static int reg_forget(const char *name, int kind)
{
	char *s = NULL;
	sigset_t old;
	cli_reg_hold(&old);
	for (int i = nreg - 1; i >= 0; i--)
		if (reg[i].kind == kind && strcmp(reg[i].name, name) == 0) {
			s = reg[i].name;
			reg[i] = reg[--nreg];
			break;
		}
	cli_reg_release(&old);
	free(s);
	return s != NULL;
}

void cli_tmp_add(const char *tmpname) { reg_add(tmpname, REG_TMP); }
void cli_tmp_forget(const char *tmpname) { reg_forget(tmpname, REG_TMP); }

/* path.tmp was being written and is now path: a finished output */
void cli_out_done(const char *path)
{
	char *tmp;
	if (asprintf(&tmp, "%s.tmp", path) < 0) die("out of memory");
	if (reg_forget(tmp, REG_TMP)) reg_add(path, REG_DONE);
	free(tmp);
}

/* async-signal-safe string building for the handler's message */
typedef struct { char *s; size_t n, cap; } sbuf;
static void sb_put(sbuf *b, const char *s)
{
	while (*s && b->n + 1 < b->cap) b->s[b->n++] = *s++;
	b->s[b->n] = 0;
}

static const char *sig_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
}

/* removes the temporary files, writes the one line saying what was kept,
 * then ends the process by sig itself (so a shell sees 128+sig and stops a
 * loop on Ctrl-C); async-signal-safe */
static void interrupt_end(int sig, int again) __attribute__((noreturn));
static void interrupt_end(int sig, int again)
{
	char line[4096];
	sbuf b = { line, 0, sizeof line };
	int nk = 0, nr = 0;
	if (util_stderr_line_open()) sb_put(&b, "\n");
	sb_put(&b, cli_prog);
	sb_put(&b, again ? ": interrupted again by " : ": interrupted by ");
	sb_put(&b, sig_name(sig));
	sb_put(&b, ": ");
	if (sig_note[0]) sb_put(&b, sig_note), nk++;
	int nd = 0;
	for (int i = 0; i < nreg; i++)
		if (reg[i].kind == REG_DONE && nd++ < 4) {     /* tnsview --npy: thousands */
			sb_put(&b, nk++ ? ", " : "kept ");
			sb_put(&b, reg[i].name);
		}
	if (nd > 4) {
		char num[24];
		int k = 0;
		for (unsigned v = (unsigned)(nd - 4); v; v /= 10) num[k++] = (char)('0' + v % 10);
		sb_put(&b, " and ");
		while (k) { char c[2] = { num[--k], 0 }; sb_put(&b, c); }
		sb_put(&b, " more finished files");
	}
	if (!nk) sb_put(&b, "nothing kept");
	for (int i = 0; i < nreg; i++)
		if (reg[i].kind == REG_TMP && unlink(reg[i].name) == 0) {
			sb_put(&b, nr++ ? ", " : "; removed the unfinished ");
			sb_put(&b, reg[i].name);
		}
	sb_put(&b, "\n");
	if ((nk || nr || !sig_quiet_empty) && write(STDERR_FILENO, line, b.n) < 0) { /* nothing to do about it */ }
	signal(sig, SIG_DFL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	raise(sig);
	_exit(128 + sig);
}

static void on_signal(int sig)
{
	if (!pthread_equal(pthread_self(), main_tid)) {
		pthread_kill(main_tid, sig);      /* the main thread's mask guards the registry */
		return;
	}
	if (sig_defer && !sig_got) { sig_got = sig; return; }
	interrupt_end(sig, sig_got != 0);
}

static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
static struct sigaction sig_before[3];   /* what signals_init replaced */
static int sig_set[3];                   /* which of them it replaced */

static void signals_init(void)
{
	main_tid = pthread_self();
	util_at_exit(reg_remove_all);
	for (int i = 0; i < 3; i++) {
		struct sigaction sa, old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;  /* nohup, & */
		sig_before[i] = old, sig_set[i] = 1;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		for (int j = 0; j < 3; j++) sigaddset(&sa.sa_mask, sigs[j]);
		sigaction(sigs[i], &sa, NULL);
	}
}

void cli_signals_restore(void)
{
	for (int i = 0; i < 3; i++)
		if (sig_set[i]) sigaction(sigs[i], &sig_before[i], NULL), sig_set[i] = 0;
}

void cli_signal_defer(int on) { sig_defer = on; }
void cli_signal_quiet_empty(int on) { sig_quiet_empty = on; }
int cli_interrupted(void) { return sig_got; }

void cli_signal_note(const char *fmt, ...)
{
	char s[sizeof sig_note];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s, sizeof s, fmt, ap);
	va_end(ap);
	sigset_t old;
	cli_reg_hold(&old);
	memcpy(sig_note, s, sizeof s);
	cli_reg_release(&old);
}

void cli_interrupt_exit(void)
{
	sigset_t old;
	fflush(stdout);
	fflush(stderr);
	cli_reg_hold(&old);
	interrupt_end(sig_got ? sig_got : SIGINT, 0);
}

/* util_exit()'s cleanup: the temporary files and the outputs finished so
 * far are removed, with the signals blocked for good (the handler reads the
 * registry) */
static void reg_remove_all(void)
{
	sigset_t old;
	cli_reg_hold(&old);
	for (int i = 0; i < nreg; i++) unlink(reg[i].name);
}

void cli_write_failed(const char *what)
{
	if (errno == EPIPE) util_exit(EXIT_FAILURE);  /* reader went away: say nothing */
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
		util_exit(EXIT_USAGE);
	}
}

void cli_check_binary_out(const cli_opts *o)
{
	if (!o->output && !o->force && isatty(STDOUT_FILENO))
		die_usage("refusing to write binary output to a terminal (use -o FILE, a pipe, or -f)");
}

static const char *version_note;
void cli_version_note(const char *line) { version_note = line; }

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
	if (version_note) printf("%s\n", version_note);
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

/* a path written through PATH.tmp + rename (not stdout, not a device) */
int cli_via_tmp(const char *path)
{
	struct stat st;
	return path && strcmp(path, "-") != 0 && !(stat(path, &st) == 0 && !S_ISREG(st.st_mode));
}

FILE *cli_out_open(cli_out *out, const char *path)
{
	memset(out, 0, sizeof *out);
	if (!path || strcmp(path, "-") == 0) return out->fp = stdout;
	out->path = xstrdup(path);
	if (!cli_via_tmp(path)) {
		/* a device or FIFO (/dev/null): in place, never renamed over */
		out->fp = fopen(path, "w");
		if (!out->fp) die_file(path, "cannot open: %s", strerror(errno));
		return out->fp;
	}
	if (asprintf(&out->tmp, "%s.tmp", path) < 0) die("out of memory");
	sigset_t old;
	cli_reg_hold(&old);
	out->fp = fopen(out->tmp, "w");
	if (out->fp) cli_tmp_add(out->tmp);
	cli_reg_release(&old);
	if (!out->fp) die_file(path, "cannot create %s: %s", out->tmp, strerror(errno));
	return out->fp;
}

void cli_out_close(cli_out *out)
{
	if (!out->path) { cli_close_stdout(); return; }
	int bad = fflush(out->fp) != 0 || ferror(out->fp);
	int e = errno;
	if (fclose(out->fp) != 0 && !bad) { bad = 1; e = errno; }
	out->fp = NULL;
	if (bad) die_file(out->path, "write failed: %s", strerror(e));   /* removes the .tmp */
	if (out->tmp) {
		sigset_t old;
		cli_reg_hold(&old);
		if (rename(out->tmp, out->path) < 0) bad = 1, e = errno;
		else cli_out_done(out->path);
		cli_reg_release(&old);
		if (bad) die_file(out->path, "write failed: %s", strerror(e));
	}
	free(out->path);
	free(out->tmp);
	memset(out, 0, sizeof *out);
}

void cli_out_abort(cli_out *out)
{
	if (!out->path) return;
	if (out->fp) fclose(out->fp);
	if (out->tmp) { unlink(out->tmp); cli_tmp_forget(out->tmp); }
	free(out->path);
	free(out->tmp);
	memset(out, 0, sizeof *out);
}
