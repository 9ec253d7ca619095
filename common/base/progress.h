/* progress.h -- the progress line on stderr that the long-running programs
 * share (lmtrain, fisherflow): a bar, how much is done, the program's own
 * figures and the time left; rewritten in place while stderr is a
 * terminal, a line of its own otherwise. */
#ifndef SEQLM_PROGRESS_H
#define SEQLM_PROGRESS_H

#include <stddef.h>

/* stderr is a terminal and -q was not given: the live line is wanted */
int progress_tty(void);
/* "m:ss" or "h:mm:ss" */
void progress_eta(double seconds, char *buf, size_t n);
/* "prog: [####................] WHAT done/total  EXTRA  ETA m:ss", after a
 * '\r' on a terminal (tty) and ended by a newline off one or when last;
 * total <= 0 (unknown, e.g. a pipe): "prog: WHAT done  EXTRA", no bar and
 * no ETA.  extra may be NULL. */
void progress_print(int tty, const char *what, long done, long total, const char *extra, double eta, int last);

#endif
