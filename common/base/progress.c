/* progress.c -- the shared progress line (see progress.h). */
#include "base/progress.h"

#include <stdio.h>
#include <unistd.h>
#include "base/util.h"

int progress_tty(void)
{
	return cli_verbose >= 0 && isatty(STDERR_FILENO);
}

void progress_eta(double s, char *buf, size_t n)
{
	long t = (long)(s + 0.5);
	if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

void progress_print(int tty, const char *what, long done, long total, const char *extra, double eta, int last)
{
	const char *start = tty ? "\r" : "", *end = tty && !last ? "" : "\n";
	const char *sep = extra && *extra ? "  " : "";
	if (total <= 0) {
		fprintf(stderr, "%s%s: %s %ld%s%s%s", start, cli_prog, what, done, sep, extra ? extra : "", end);
	} else {
		char e[32], bar[24];
		int w = (int)(20.0 * done / total);
		for (int i = 0; i < 20; i++) bar[i] = i < w ? '#' : '.';
		bar[20] = 0;
		progress_eta(eta, e, sizeof e);
		fprintf(stderr, "%s%s: [%s] %s %ld/%ld%s%s  ETA %s%s", start, cli_prog, bar, what, done, total, sep,
		        extra ? extra : "", e, end);
	}
	cli_stderr_open_line(tty && !last);
	fflush(stderr);
}
