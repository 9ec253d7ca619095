/* memfile.h -- the fuzz input as a file: an in-memory file (memfd) holding
 * the bytes, for code that opens paths or descriptors. */
#ifndef SEQLM_MEMFILE_H
#define SEQLM_MEMFILE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <htslib/hts.h>

/* one malloc over 2 GB returns NULL, as one that cannot be served does
 * outside the fuzzer, instead of ASan stopping the run or poisoning the
 * shadow of gigabytes: htslib asks for what a corrupt CRAM container
 * declares (7.6 GB seen) and reports the failure itself; seqlm's own
 * allocations die cleanly on NULL */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1:max_allocation_size_mb=2048"; }

/* writes data to the memfd (made once) and returns its descriptor, at
 * offset 0; *path (optional) gets a name that opens it */
static int memfile(const uint8_t *data, size_t size, const char **path)
{
	static int fd = -1;
	static char name[64];
	if (fd < 0) {
		hts_set_log_level(HTS_LOG_OFF);
		fd = memfd_create("fuzz", 0);
		if (fd < 0) abort();
		snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) abort();
	lseek(fd, 0, SEEK_SET);
	if (path) *path = name;
	return fd;
}

#endif
