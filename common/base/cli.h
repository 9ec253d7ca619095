/* cli.h -- what every seqlm program does the same way: the program name in
 * messages, exit codes, the common options (-t -q -v -o -f --help
 * --version), FTZ/DAZ, OpenBLAS threads, quiet death on EPIPE, checked
 * close of stdout.  The only global state in the project lives here. */
#ifndef SEQLM_CLI_H
#define SEQLM_CLI_H

#include <getopt.h>
#include <stdio.h>
#include "io/tns.h"

#define SEQLM_VERSION "0.1.0"

enum { EXIT_USAGE = 2 };

extern const char *cli_prog;      /* program name for messages */
extern int cli_verbose;           /* -v raises, -q sets -1 */

/* The common options.  Each tool's getopt string starts with CLI_SHORTOPTS
 * and its long option table ends with CLI_LONGOPTS; it passes every option
 * it does not handle itself to cli_common_opt(). */
#define CLI_SHORTOPTS "t:qvo:f"    /* one meaning per letter in every program */
enum { CLI_OPT_HELP = 0x1000, CLI_OPT_VERSION, CLI_OPT_QUIET };
#define CLI_LONGOPTS \
	{"threads", required_argument, 0, 't'}, \
	{"quiet", no_argument, 0, CLI_OPT_QUIET}, \
	{"verbose", no_argument, 0, 'v'}, \
	{"output", required_argument, 0, 'o'}, \
	{"force", no_argument, 0, 'f'}, \
	{"help", no_argument, 0, CLI_OPT_HELP}, \
	{"version", no_argument, 0, CLI_OPT_VERSION}, \
	{0, 0, 0, 0}

typedef struct {
	int threads;                  /* -t, default 1 */
	const char *output;           /* -o, NULL = stdout */
	int force;                    /* -f: binary to a terminal is fine */
	int argc;                     /* the original command line, for @PG */
	char **argv;
} cli_opts;

/* Call first in main(): sets cli_prog, FTZ/DAZ, SIGPIPE default, OpenBLAS to
 * one thread for good: -t threads are seqlm's own (par.h cuts every matrix
 * product into pieces whose shapes do not depend on -t and runs OpenBLAS
 * single-threaded inside each, so the bits do not either). */
void cli_init(cli_opts *o, int argc, char **argv);
/* handles c if it is a common option and returns 1; 0 if it is not.
 * usage(FILE*) prints the tool's usage; --help prints it to stdout, exit 0. */
int cli_common_opt(cli_opts *o, int c, const char *arg, void (*usage)(FILE *));
/* OpenBLAS on the calling thread alone (it inherits FTZ/DAZ), no idle
 * worker left behind */
void cli_blas_single(void);
/* no input file given and stdin is a terminal: print usage, exit 2 */
void cli_need_input(int nfiles, void (*usage)(FILE *));
/* binary output to stdout on a terminal without -f: error, exit 2 */
void cli_check_binary_out(const cli_opts *o);

void cli_version(void);           /* prog, seqlm, htslib and OpenBLAS versions */
/* a line --version adds for what a program was built with ("MPI: ...") */
void cli_version_note(const char *line);
/* A program run as several processes (lmtrain under MPI) names the process
 * in its messages (where, e.g. "rank 3": "lmtrain: error: rank 3: ..."),
 * may hold an error message back a moment (wait, before printing: an error
 * every process meets is then reported once, by the first, which ends the
 * others) and ends every process after its own cleanup (end; never
 * returns).  Any may be NULL. */
void cli_set_process(const char *where, void (*wait)(void), void (*end)(int code));
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* unless -q */
/* "prog: error: FILE: msg", exit 1 */
void die_file(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* a line without its newline is on stderr (a live progress line): the next
 * message ends it first */
void cli_stderr_open_line(int open);
/* fflush + ferror + fclose(stdout); EPIPE is a quiet exit; other errors die */
void cli_close_stdout(void);
/* write error on a stream: EPIPE exits quietly, anything else dies */
void cli_write_failed(const char *what) __attribute__((noreturn));

/* tns output with the conventions: create (die naming the file on error),
 * close (EPIPE quiet, other errors die naming the file, no partial file) */
tns_writer *cli_tns_create(const cli_opts *o, const char *path, const tns_header *h, int flags);
void cli_tns_close(tns_writer *w);

/* text output (TSV reports...) that never leaves a partial file: FILE is
 * written as FILE.tmp and renamed by cli_out_close(); NULL or "-" is stdout */
typedef struct { FILE *fp; char *path, *tmp; } cli_out;
FILE *cli_out_open(cli_out *out, const char *path);
void cli_out_close(cli_out *out);     /* checks errors, renames; dies on error */
void cli_out_abort(cli_out *out);     /* removes the temporary file */

/* Every file being written through a temporary name is registered (the
 * functions above do it): an error removes the temporary files and the
 * outputs finished so far (exit 1 means no new output file); SIGINT,
 * SIGTERM or SIGHUP removes the temporary files, keeps the finished
 * outputs, prints one line saying what was kept and ends the program by
 * the signal (exit status 130, 143, 129).  A signal ignored when the
 * program started (nohup) stays ignored.  cli_tmp_add() registers another
 * temporary file (a checkpoint's), cli_tmp_forget() drops it once renamed
 * or removed. */
void cli_tmp_add(const char *tmpname);
void cli_tmp_forget(const char *tmpname);
/* While deferral is on, the first signal only sets a flag that the program
 * polls with cli_interrupted() (the signal number, 0 if none) at a safe
 * point -- lmtrain at a step boundary, to write its checkpoint -- and then
 * ends with cli_interrupt_exit(); a second signal ends it at once. */
void cli_signal_defer(int on);
int cli_interrupted(void);
void cli_interrupt_exit(void) __attribute__((noreturn));
/* what the interrupt message says is kept, besides the finished outputs
 * (e.g. "the checkpoint m.ckpt at step 40 (...)"); "" for nothing */
void cli_signal_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* --precision fp32|bf16 -> 0|1 (bert_set_precision); bf16 where it cannot
 * run (built without oneDNN, a CPU without AVX512-BF16/AMX) dies naming
 * why, before anything is read or written */
int cli_precision(const char *arg);

/* parse helpers: die_usage on bad input */
long cli_long(const char *opt, const char *s, long lo, long hi);
double cli_double(const char *opt, const char *s, double lo, double hi);
/* "1-5", "1,3,7", "2" -> *out (malloc'd), count */
int cli_int_list(const char *opt, const char *s, long **out);
double cli_now(void);             /* monotonic seconds */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* a whole small file (a JSON config or index), NUL-terminated, in *len
 * bytes; NULL with "PATH: why" in err when it cannot be opened or read, or
 * holds more than max bytes (why: toolarge) */
char *cli_read_small(const char *path, size_t max, size_t *len, const char *toolarge, char *err, size_t elen);
/* 64-byte aligned, for BLAS operands; free with free() */
void *xaligned(size_t n);

#endif
