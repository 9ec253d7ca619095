/* cli.h -- what every seqlm program does the same way: the common options
 * (-t -q -v -o -f --help --version), FTZ/DAZ, OpenBLAS threads, quiet
 * death on EPIPE, checked close of stdout, outputs written through a
 * temporary file and the signals that remove it.  Messages, exit codes and
 * memory are util.h's (included).  The only global state in the project
 * lives here and in util.c. */
#ifndef SEQLM_CLI_H
#define SEQLM_CLI_H

#include <getopt.h>
#include <stdio.h>
#include <signal.h>
#include "base/util.h"

#define SEQLM_VERSION "0.1.0"

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
/* fflush + ferror + fclose(stdout); EPIPE is a quiet exit; other errors die */
void cli_close_stdout(void);
/* write error on a stream: EPIPE exits quietly, anything else dies */
void cli_write_failed(const char *what) __attribute__((noreturn));

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
/* For a writer of another format (io/tnsout.c): PATH is written through
 * PATH.tmp (not stdout, not a device); the registry held (signals blocked)
 * while a temporary file is created and registered, or renamed and
 * cli_out_done(PATH) records it as finished, so no signal falls between */
int cli_via_tmp(const char *path);
void cli_reg_hold(sigset_t *old);
void cli_reg_release(const sigset_t *old);
void cli_out_done(const char *path);
/* While deferral is on, the first signal only sets a flag that the program
 * polls with cli_interrupted() (the signal number, 0 if none) at a safe
 * point -- lmtrain at a step boundary, to write its checkpoint -- and then
 * ends with cli_interrupt_exit(); a second signal ends it at once. */
void cli_signal_defer(int on);
/* on: an interruption that kept and removed nothing says nothing (an MPI
 * rank other than 0: rank 0 says it for the job, and Open MPI ends every
 * rank with SIGTERM after MPI_Abort); files kept or removed are still said */
void cli_signal_quiet_empty(int on);
/* the signals' handlers back to what they were before cli_init(): for a
 * process that has cleaned up and is about to be ended by a signal (an MPI
 * rank in MPI_Abort), so that it ends without an "interrupted" line */
void cli_signals_restore(void);
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

#endif
