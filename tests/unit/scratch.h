/* scratch.h -- a scratch folder for a unit test's files: made by
 * scratch_init() under $TMPDIR (or /tmp), removed with what it holds by
 * scratch_done(); scratch_path() names a file in it (four names live at
 * once). */
#ifndef SEQLM_SCRATCH_H
#define SEQLM_SCRATCH_H

#include <stdio.h>
#include <stdlib.h>

static char scratch_dir[256];

static int scratch_init(const char *name)
{
	const char *t = getenv("TMPDIR");
	snprintf(scratch_dir, sizeof scratch_dir, "%s/seqlm-%s.XXXXXX", t && *t ? t : "/tmp", name);
	if (mkdtemp(scratch_dir)) return 0;
	perror("mkdtemp");
	return -1;
}

static const char *scratch_path(const char *name)
{
	static char buf[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", scratch_dir, name);
	return buf[k];
}

static void scratch_done(void)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch_dir);
	if (system(cmd) != 0) fprintf(stderr, "# could not remove %s\n", scratch_dir);
}

#endif
