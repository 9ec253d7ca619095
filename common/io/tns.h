/* tns.h -- the seqlm tensor stream (.tns): header lines, records of named
 * tensors, a checked end frame.  Byte layout: man/tns.5.
 *
 * Reading needs memory for one record: tns_read() reuses one buffer, and the
 * tensors of a record point into it until the next tns_read().  Writing goes
 * to "name.tmp" and is renamed on tns_close(), so a failed run never leaves
 * a partial file.  Both sides handle BGZF (detected on read, -z on write). */
#ifndef SEQLM_TNS_H
#define SEQLM_TNS_H

#include <stddef.h>
#include <stdint.h>

#define TNS_VERSION    1          /* format version, @HD VN */
#define TNS_ALIGN      64         /* frame and payload alignment */
#define TNS_MAX_DIMS   4
#define TNS_MAX_NAME   4096       /* record and tensor names, bytes */
#define TNS_MAX_TENSORS 65536     /* tensors per record */
#define TNS_MAX_HEADER (256u << 20)   /* header text bytes */
#define TNS_MAX_FRAME  (((uint64_t)16) << 30) /* one record, bytes */

typedef enum {
	TNS_U8 = 1, TNS_I32 = 2, TNS_I64 = 3, TNS_F16 = 4, TNS_F32 = 5, TNS_F64 = 6
} tns_dtype;

typedef struct {
	const char *name;
	tns_dtype dtype;
	int ndim;                     /* 0..TNS_MAX_DIMS; 0 is a scalar */
	int64_t dim[TNS_MAX_DIMS];
	void *data;                   /* little-endian payload, 64-byte aligned on read */
	size_t nbytes;
} tns_tensor;

typedef struct {
	char *name;
	int n;                        /* number of tensors */
	tns_tensor *t;
	uint64_t index;               /* record number, from 0 */
	uint64_t offset;              /* byte offset of its frame in the (uncompressed) stream */
	void *mem;                    /* storage of a copy (tns_record_copy), else NULL */
} tns_record;

/* ---- header: text lines "@XX\t..." ------------------------------------- */
typedef struct {
	int n, m;
	char **line;                  /* without trailing newline */
} tns_header;

void tns_header_init(tns_header *h);
void tns_header_free(tns_header *h);
void tns_header_copy(tns_header *dst, const tns_header *src);
/* append one line (printf format); returns 0 or -1 on a malformed line */
int tns_header_add(tns_header *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* remove every line starting with prefix (e.g. "@KV\tvocab_size\t") */
void tns_header_remove(tns_header *h, const char *prefix);
/* key/value metadata, one "@KV\tKEY\tVALUE" line per key; set replaces */
void tns_header_set(tns_header *h, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *tns_header_get(const tns_header *h, const char *key); /* NULL if absent */
int tns_header_get_int(const tns_header *h, const char *key, int64_t *v); /* 0 ok, -1 absent/bad */
int tns_header_get_double(const tns_header *h, const char *key, double *v);
/* Append this program's provenance: "@PG\tID:prog[.n]\tPN:prog\tPP:previous
 * \tVN:version\tCL:argv joined" then extra (already "\tKEY:VALUE"-formatted,
 * may be NULL), e.g. "\tSD:42".  Tabs and newlines in argv are escaped. */
void tns_header_add_pg(tns_header *h, const char *prog, const char *version,
                       int argc, char *const *argv, const char *extra);
/* value of field TAG ("ID", "SD", ...) of line; written to buf, NULL if absent */
const char *tns_line_field(const char *line, const char *tag, char *buf, size_t len);

/* ---- reading ------------------------------------------------------------ */
typedef struct tns_reader tns_reader;

/* path "-" or NULL is stdin.  Reads and checks the header.  On failure
 * returns NULL and, if err is not NULL, writes a message to err. */
tns_reader *tns_open(const char *path, char *err, size_t errlen);
/* the same on an open file descriptor (taken over: closed by
 * tns_close_reader); name is used in messages */
tns_reader *tns_open_fd(int fd, const char *name, char *err, size_t errlen);
const tns_header *tns_reader_header(const tns_reader *r);
const char *tns_reader_path(const tns_reader *r); /* "-" for stdin */
/* 1: a record was read into rec; 0: verified end of stream; -1: error
 * (truncated, corrupt, I/O), message in tns_error().  rec's tensors point into
 * the reader and stay valid until the next tns_read() or tns_close_reader(). */
int tns_read(tns_reader *r, tns_record *rec);
const char *tns_error(const tns_reader *r);
uint64_t tns_reader_nrecords(const tns_reader *r); /* records read so far */
int tns_reader_is_bgzf(const tns_reader *r);
void tns_close_reader(tns_reader *r);

/* the first tensor of rec called name, NULL if none */
const tns_tensor *tns_get(const tns_record *rec, const char *name);
/* like tns_get, but also checks dtype and ndim (pass ndim < 0 to skip) */
const tns_tensor *tns_get_typed(const tns_record *rec, const char *name,
                                tns_dtype dtype, int ndim);
int64_t tns_numel(const tns_tensor *t);
/* a deep copy of a record (name, tensors, 64-byte aligned payloads) that
 * outlives the reader; free with tns_record_free */
void tns_record_copy(tns_record *dst, const tns_record *src);
void tns_record_free(tns_record *r);

/* ---- writing ------------------------------------------------------------ */
typedef struct tns_writer tns_writer;

enum { TNS_W_BGZF = 1,      /* BGZF-compress the whole stream */
       TNS_W_FORCE = 2 };   /* allow binary output on a terminal */

/* path "-" or NULL is stdout; otherwise writes path.tmp, renamed by
 * tns_close().  Writes the header at once.  NULL + err on failure. */
tns_writer *tns_create(const char *path, const tns_header *h, int flags,
                       char *err, size_t errlen);
/* compression threads for BGZF output (default 1) */
void tns_writer_threads(tns_writer *w, int n);
/* one record of n tensors; data is copied out before return */
int tns_write(tns_writer *w, const char *name, int n, const tns_tensor *t);
/* pass a record read from another stream through, tensors appended */
int tns_write_record(tns_writer *w, const tns_record *rec, int n_extra,
                     const tns_tensor *extra);
/* end frame, flush, close, rename, free; 0 ok.  On error returns -1, removes
 * the temporary file and keeps w so the caller can read tns_werror(w); then
 * call tns_abort(w) to free it. */
int tns_close(tns_writer *w);
/* drop everything, remove the temporary file */
void tns_abort(tns_writer *w);
const char *tns_werror(const tns_writer *w);
int tns_werrno(const tns_writer *w);        /* errno of the failure (EPIPE...) */
uint64_t tns_writer_nrecords(const tns_writer *w);
const char *tns_writer_path(const tns_writer *w);   /* as given; "-" for stdout */

/* ---- helpers ------------------------------------------------------------ */
const char *tns_dtype_name(tns_dtype d);   /* "f32", ... ; "?" if unknown */
int tns_dtype_parse(const char *s);        /* -1 if unknown */
size_t tns_dtype_size(tns_dtype d);        /* 0 if unknown */
/* fill a tensor descriptor; the data is not copied */
tns_tensor tns_tensor_make(const char *name, tns_dtype dtype, int ndim,
                           const int64_t *dim, const void *data);
tns_tensor tns_tensor_1d(const char *name, tns_dtype dtype, int64_t n, const void *data);
float tns_f16_to_f32(uint16_t h);
uint16_t tns_f32_to_f16(float f);          /* round to nearest even */

#endif
