/* util.h -- what library code needs from the process it runs in: memory
 * that is there or ends the program, and messages naming the program
 * ("prog: error: FILE: what"), with the exit path that removes unfinished
 * outputs.  Nothing here is about the command line (that is cli.h, which
 * includes this), so io/, tok/, model/ and analysis/ include util.h alone.
 *
 * The program name, the verbosity and the message helpers keep the cli_
 * prefix they always had: every tool sets and reads them through cli.h. */
#ifndef SEQLM_UTIL_H
#define SEQLM_UTIL_H

#include <stddef.h>

enum { EXIT_USAGE = 2 };

extern const char *cli_prog;      /* program name for messages */
extern int cli_verbose;           /* -v raises, -q sets -1 */

/* A program run as several processes (lmtrain under MPI) names the process
 * in its messages (where, e.g. "rank 3": "lmtrain: error: rank 3: ..."),
 * may hold an error message back (wait, before printing: an error every
 * process meets is then reported once, by the first process, which ends the
 * others; wait may end the process itself, silently) and ends every
 * process after its own cleanup (end; never returns).  Any may be NULL. */
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
int util_stderr_line_open(void);    /* async-signal-safe */

/* The way out after an error: stdout's buffer is flushed by the message,
 * the function set by util_at_exit() runs (cli.c's: removes the temporary
 * files and the outputs finished so far), no exit handlers run.
 * util_msg_start() readies stderr for a message printed by hand. */
void util_exit(int code) __attribute__((noreturn));
void util_msg_start(void);
void util_at_exit(void (*cleanup)(void));
/* runs that function now, once: for a process ending without a message */
void util_cleanup(void);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* 64-byte aligned, for BLAS operands; free with free() */
void *xaligned(size_t n);
/* a whole small file (a JSON config or index), NUL-terminated, in *len
 * bytes; NULL with "PATH: why" in err when it cannot be opened or read, or
 * holds more than max bytes (why: toolarge) */
char *util_read_small(const char *path, size_t max, size_t *len, const char *toolarge, char *err, size_t elen);

#endif
