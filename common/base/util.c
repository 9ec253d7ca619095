/* util.c -- memory and messages for every module (see util.h). */
#include "base/util.h"

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cli_prog = "seqlm";
int cli_verbose = 0;

/* a live progress line (progress.h) is on the terminal without its newline:
 * a message first ends it, so as not to be glued to its end */
static volatile sig_atomic_t stderr_open_line;
void cli_stderr_open_line(int open) { stderr_open_line = open; }
int util_stderr_line_open(void) { return stderr_open_line; }

/* cli_set_process() */
static char proc_where[64];
static void (*proc_wait)(void), (*proc_end)(int);

void cli_set_process(const char *where, void (*wait)(void), void (*end)(int code))
{
	snprintf(proc_where, sizeof proc_where, "%s%s", where ? where : "", where && *where ? ": " : "");
	proc_wait = wait, proc_end = end;
}

/* An error ends the program at once: stdout's buffer is flushed (vmsg), the
 * temporary files and the outputs finished so far are removed (the cleanup
 * cli.c registers), and no exit handlers run -- nothing else is left to
 * tidy in a dying process, and LeakSanitizer would only report the buffers
 * of the interrupted work. */
static void (*exit_cleanup)(void);
void util_at_exit(void (*cleanup)(void)) { exit_cleanup = cleanup; }

void util_cleanup(void)
{
	void (*f)(void) = exit_cleanup;
	exit_cleanup = NULL;
	if (f) f();
}

void util_exit(int code)
{
	util_cleanup();
	fflush(stderr);
	if (proc_end) proc_end(code);
	_exit(code);
}

void util_msg_start(void)
{
	fflush(stdout);
	if (stderr_open_line) { fputc('\n', stderr); stderr_open_line = 0; }
}

static void vmsg(const char *kind, const char *fmt, va_list ap)
{
	if (proc_wait && *kind == 'e') proc_wait();
	util_msg_start();
	fprintf(stderr, "%s: %s%s", cli_prog, kind, proc_where);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt); vmsg("error: ", fmt, ap); va_end(ap);
	util_exit(EXIT_FAILURE);
}

void die_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt); vmsg("error: ", fmt, ap); va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", cli_prog);
	util_exit(EXIT_USAGE);
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
	if (proc_wait) proc_wait();
	util_msg_start();
	/* "-" is how the command line says standard input; a message says it
	 * in words, as it says "standard output" */
	fprintf(stderr, "%s: error: %s%s: ", cli_prog, proc_where, file && *file && strcmp(file, "-") != 0 ? file : "standard input");
	va_start(ap, fmt); vfprintf(stderr, fmt, ap); va_end(ap);
	fputc('\n', stderr);
	util_exit(EXIT_FAILURE);
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

char *util_read_small(const char *path, size_t max, size_t *len, const char *toolarge, char *err, size_t elen)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) { snprintf(err, elen, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
	char *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max + 1, fp) : 0;
	int bad = !buf || ferror(fp);
	fclose(fp);
	if (bad || n > max) {
		snprintf(err, elen, "%s: %s", path, bad ? "cannot read" : toolarge);
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}
