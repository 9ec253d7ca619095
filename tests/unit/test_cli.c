/* test_cli.c -- the command-line conventions (cli.h, util.h, io/tnsout.h):
 * option parsing, messages and exit codes, outputs written through
 * FILE.tmp and renamed, nothing partial left on an error.  What dies is
 * run in a child process whose exit status and stderr are checked. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "base/cli.h"
#include "io/tnsout.h"
#include "tap.h"
#include "scratch.h"


static int exists(const char *name)
{
	struct stat st;
	return stat(scratch_path(name), &st) == 0;
}

/* runs fn(arg) in a child; its exit status, and its stderr in err */
static int child(void (*fn)(void *), void *arg, char *err, size_t elen)
{
	char ef[300];
	snprintf(ef, sizeof ef, "%s", scratch_path("stderr"));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen(ef, "w", stderr)) _exit(99);
		fn(arg);
		fflush(stderr);
		_exit(0);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	FILE *fp = fopen(ef, "r");
	size_t n = fp ? fread(err, 1, elen - 1, fp) : 0;
	err[n] = 0;
	if (fp) fclose(fp);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void long_bad(void *arg) { cli_long("-n", arg, 1, 100); }
static void double_bad(void *arg) { cli_double("--lr", arg, 0, 1); }
static void list_bad(void *arg) { long *v; cli_int_list("--layers", arg, &v); }

static void test_parse(void)
{
	char err[1024];
	ok(cli_long("-n", "42", 1, 100) == 42, "cli_long: a plain integer");
	ok(cli_long("-n", "10k", 0, 100000000) == 10000, "cli_long: 10k is 10,000");
	ok(cli_long("-n", "20M", 0, 100000000) == 20000000, "cli_long: 20M is 20,000,000");
	ok(cli_long("-n", "-3", -5, 5) == -3, "cli_long: negative within range");
	int rc = child(long_bad, "0", err, sizeof err);
	ok(rc == EXIT_USAGE && strcmp(err, "test_cli: error: -n: expected an integer in [1, 100], got '0'\n"
	   "Try 'test_cli --help' for more information.\n") == 0, "cli_long: out of range is a usage error, exit 2");
	if (rc != EXIT_USAGE) diag("exit %d: %s", rc, err);
	ok(child(long_bad, "12x", err, sizeof err) == EXIT_USAGE && strstr(err, "got '12x'"), "cli_long: trailing junk refused");
	ok(child(long_bad, "99999999999999999999", err, sizeof err) == EXIT_USAGE, "cli_long: overflow refused");
	ok(child(long_bad, "1G", err, sizeof err) == EXIT_USAGE, "cli_long: a suffix past the range refused");

	ok(cli_double("--lr", "0.25", 0, 1) == 0.25, "cli_double: in range");
	ok(child(double_bad, "nan", err, sizeof err) == EXIT_USAGE && strstr(err, "--lr: expected a number in [0, 1], got 'nan'"),
	   "cli_double: NaN refused");
	ok(child(double_bad, "1.5", err, sizeof err) == EXIT_USAGE, "cli_double: out of range refused");

	long *v = NULL;
	int n = cli_int_list("--layers", "1-3,7", &v);
	ok(n == 4 && v[0] == 1 && v[1] == 2 && v[2] == 3 && v[3] == 7, "cli_int_list: 1-3,7 is 1 2 3 7");
	free(v);
	n = cli_int_list("--layers", "5", &v);
	ok(n == 1 && v[0] == 5, "cli_int_list: one number");
	free(v);
	ok(child(list_bad, "3-1", err, sizeof err) == EXIT_USAGE && strstr(err, "--layers: bad range in '3-1'"),
	   "cli_int_list: a descending range refused");
	ok(child(list_bad, "1;2", err, sizeof err) == EXIT_USAGE && strstr(err, "bad list '1;2'"), "cli_int_list: bad separator refused");
	ok(child(list_bad, "", err, sizeof err) == EXIT_USAGE && strstr(err, "--layers: empty list"), "cli_int_list: empty list refused");
}

static void die_stdin(void *arg) { (void)arg; die_file("-", "truncated record"); }
static void warn_quiet(void *arg) { (void)arg; cli_verbose = -1; warn("hidden"); info("hidden"); cli_verbose = 0; warn("shown %d", 1); }

static void test_messages(void)
{
	char err[1024];
	ok(child(die_stdin, NULL, err, sizeof err) == 1 && strcmp(err, "test_cli: error: standard input: truncated record\n") == 0,
	   "die_file: \"-\" is named standard input, exit 1");
	ok(child(warn_quiet, NULL, err, sizeof err) == 0 && strcmp(err, "test_cli: warning: shown 1\n") == 0,
	   "warn and info say nothing under -q");
}

/* cli_out: FILE.tmp while writing, FILE after close, nothing after abort */
static void out_then_die(void *arg)
{
	cli_out o;
	FILE *fp = cli_out_open(&o, arg);
	fputs("half\n", fp);
	fflush(fp);
	die_file(arg, "bad input");
}

static void test_out(void)
{
	char err[1024];
	cli_out o;
	FILE *fp = cli_out_open(&o, scratch_path("r.tsv"));
	fputs("a\tb\n", fp);
	ok(exists("r.tsv.tmp") && !exists("r.tsv"), "cli_out_open: writes r.tsv.tmp, not r.tsv");
	cli_out_close(&o);
	ok(!exists("r.tsv.tmp") && exists("r.tsv"), "cli_out_close: renames r.tsv.tmp to r.tsv");
	size_t n;
	char msg[256], *s = util_read_small(scratch_path("r.tsv"), 100, &n, "too large", msg, sizeof msg);
	ok(s && n == 4 && memcmp(s, "a\tb\n", 4) == 0, "the renamed file holds what was written");
	free(s);
	ok(!util_read_small(scratch_path("r.tsv"), 3, &n, "too large", msg, sizeof msg) && strstr(msg, "r.tsv: too large"),
	   "util_read_small: a file over the limit is refused, naming it");
	ok(!util_read_small(scratch_path("none"), 3, &n, "too large", msg, sizeof msg) && strstr(msg, "none: cannot open: "),
	   "util_read_small: a missing file is refused, naming it");

	fp = cli_out_open(&o, scratch_path("a.tsv"));
	fputs("x\n", fp);
	cli_out_abort(&o);
	ok(!exists("a.tsv.tmp") && !exists("a.tsv"), "cli_out_abort: removes the temporary file, no output");

	ok(child(out_then_die, (void *)scratch_path("d.tsv"), err, sizeof err) == 1 && !exists("d.tsv.tmp") && !exists("d.tsv"),
	   "an error while writing leaves neither d.tsv nor d.tsv.tmp");
	ok(strstr(err, "test_cli: error: ") && strstr(err, "d.tsv: bad input\n"), "the error names the file");
}

static void tns_then_die(void *arg)
{
	cli_opts o;
	char *argv[] = {"test_cli", NULL};
	cli_init(&o, 1, argv);
	tns_header h;
	tns_header_init(&h);
	tns_writer *w = cli_tns_create(&o, arg, &h, 0);
	(void)w;
	die("stopped");
}

static void test_tnsout(void)
{
	char err[1024];
	cli_opts o;
	memset(&o, 0, sizeof o);
	tns_header h;
	tns_header_init(&h);
	tns_writer *w = cli_tns_create(&o, scratch_path("x.tns"), &h, 0);
	ok(w && exists("x.tns.tmp") && !exists("x.tns"), "cli_tns_create: writes x.tns.tmp");
	cli_tns_close(w);
	ok(!exists("x.tns.tmp") && exists("x.tns"), "cli_tns_close: renames it to x.tns");
	tns_header_free(&h);
	ok(child(tns_then_die, (void *)scratch_path("y.tns"), err, sizeof err) == 1 && !exists("y.tns.tmp") && !exists("y.tns"),
	   "an error after cli_tns_create leaves no y.tns nor y.tns.tmp");
}

/* SIGTERM to this process, with cli's handlers, or with them restored
 * after the cleanup (an MPI rank in MPI_Abort: cli_signals_restore) */
static void term_self(void *restore)
{
	cli_opts o;
	char *argv[] = {"test_cli", NULL};
	cli_init(&o, 1, argv);
	if (restore) cli_signals_restore();
	raise(SIGTERM);
}

/* SIGTERM with cli_signal_quiet_empty on (an MPI rank other than 0):
 * nothing to say, or (arg set) a temporary file to remove */
static void term_quiet(void *tmp)
{
	cli_opts o;
	char *argv[] = {"test_cli", NULL};
	cli_init(&o, 1, argv);
	cli_signal_quiet_empty(1);
	if (tmp) {
		FILE *f = fopen(tmp, "w");
		if (f) fclose(f);
		cli_tmp_add(tmp);
	}
	raise(SIGTERM);
}

static void test_signals(void)
{
	char err[1024];
	ok(child(term_self, NULL, err, sizeof err) == 128 + SIGTERM && strstr(err, "test_cli: interrupted by SIGTERM"),
	   "SIGTERM: cli's handler says what was kept, and ends by the signal");
	ok(child(term_self, (void *)1, err, sizeof err) == 128 + SIGTERM && err[0] == 0,
	   "after cli_signals_restore, SIGTERM ends the process without a line");
	ok(child(term_quiet, NULL, err, sizeof err) == 128 + SIGTERM && err[0] == 0,
	   "cli_signal_quiet_empty: an interruption that kept and removed nothing says nothing");
	const char *t = scratch_path("q.tns.tmp");
	ok(child(term_quiet, (void *)t, err, sizeof err) == 128 + SIGTERM && strstr(err, "removed the unfinished") &&
	   !exists("q.tns.tmp"), "... one that removed a file still says so");
}

int main(int argc, char **argv)
{
	(void)argc;
	cli_prog = "test_cli";
	(void)argv;
	if (scratch_init("cli") < 0) return 1;
	test_signals();       /* first: the children inherit the outputs the others finish */
	test_parse();
	test_messages();
	test_out();
	test_tnsout();
	scratch_done();
	return done_testing();
}
