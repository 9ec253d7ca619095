/* tnsout.c -- tns output with the conventions (see tnsout.h). */
#include "io/tnsout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tns_writer *cli_tns_create(const cli_opts *o, const char *path, const tns_header *h, int flags)
{
	char err[512], *tmp = NULL;
	sigset_t old;
	if (o->force) flags |= TNS_W_FORCE;
	if (cli_via_tmp(path) && asprintf(&tmp, "%s.tmp", path) < 0) die("out of memory");
	cli_reg_hold(&old);         /* no signal between creating PATH.tmp and registering it */
	tns_writer *w = tns_create(path, h, flags, err, sizeof err);
	if (w && tmp) cli_tmp_add(tmp);
	cli_reg_release(&old);
	free(tmp);
	if (!w) {
		if (!path || strcmp(path, "-") == 0) die_usage("%s", err);
		die_file(path, "%s", err);
	}
	return w;
}

void cli_tns_close(tns_writer *w)
{
	char *path = xstrdup(tns_writer_path(w));
	sigset_t old;
	cli_reg_hold(&old);         /* renamed and registered as finished, at once */
	int r = tns_close(w);
	if (r == 0) cli_out_done(path);
	cli_reg_release(&old);
	free(path);
	if (r == 0) return;
	if (tns_werrno(w) == EPIPE) util_exit(EXIT_FAILURE);
	util_msg_start();
	fprintf(stderr, "%s: error: %s\n", cli_prog, tns_werror(w));
	tns_abort(w);
	util_exit(EXIT_FAILURE);
}
