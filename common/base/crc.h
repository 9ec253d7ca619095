/* crc.h -- CRC32 (the zlib/gzip polynomial), fast: carry-less multiplication
 * (PCLMULQDQ) folding where the CPU has it, zlib's crc32 elsewhere.  Same
 * values as zlib's crc32(). */
#ifndef SEQLM_CRC_H
#define SEQLM_CRC_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc_update(uint32_t crc, const void *buf, size_t len);

#endif
