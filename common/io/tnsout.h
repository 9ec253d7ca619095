/* tnsout.h -- a tns file written by a program with the command-line
 * conventions of cli.h: PATH.tmp renamed on success, registered so that an
 * error or a signal leaves no partial file, errors naming the file. */
#ifndef SEQLM_TNSOUT_H
#define SEQLM_TNSOUT_H

#include "base/cli.h"
#include "io/tns.h"

/* create (die naming the file on error; usage error for stdout),
 * close (EPIPE quiet, other errors die naming the file, no partial file) */
tns_writer *cli_tns_create(const cli_opts *o, const char *path, const tns_header *h, int flags);
void cli_tns_close(tns_writer *w);

#endif
