/* safetensors.h -- HuggingFace safetensors files, read and written by the
 * format's own rules (huggingface/safetensors, safetensors/src/tensor.rs at
 * 24b0b28: read_metadata(), Metadata::validate(), prepare()):
 *
 *   8 bytes   N, the header length, u64 little-endian (N <= 100,000,000)
 *   N bytes   a JSON object: "__metadata__" (an optional map of strings) and
 *             per tensor {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}
 *   the rest  the byte buffer; tensor data at [b, e) of it
 *
 * The tensors, sorted by offsets, must tile the buffer exactly: each starts
 * where the previous one ended, none overlaps or leaves a gap, the last ends
 * at the end of the file, and each covers dtype size x shape bytes (computed
 * with overflow checks).  Names are unique.  The file is mapped, never
 * copied: a tensor's data points into the mapping.
 *
 * A sharded checkpoint (model-0000N-of-0000M.safetensors) is read through
 * its model.safetensors.index.json ("weight_map": tensor -> file). */
#ifndef SEQLM_SAFETENSORS_H
#define SEQLM_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_MAX_HEADER 100000000u   /* MAX_HEADER_SIZE of tensor.rs */
#define ST_MAX_DIMS   8

typedef enum {                     /* the dtypes seqlm converts; others are ST_OTHER */
	ST_OTHER = 0, ST_F32, ST_F16, ST_BF16, ST_F64
} st_dtype;

typedef struct {
	char *name;
	char dtype_name[16];           /* as in the file: "F32", "I64", ... */
	st_dtype dtype;
	int ndim;
	int64_t dim[ST_MAX_DIMS];
	int64_t numel;
	const unsigned char *data;     /* into the mapping; not aligned in general */
	uint64_t offset, nbytes;       /* data_offsets[0] and its length */
} st_tensor;

typedef struct {
	char *path;
	unsigned char *map;            /* the whole file, read-only */
	size_t size;
	int n;                         /* tensors, in offset order */
	st_tensor *t;
	int nmeta;                     /* __metadata__ entries */
	char **meta_key, **meta_val;
} st_file;

/* maps and checks path; 0 ok, -1 with the problem in err (f is then empty) */
int st_open(st_file *f, const char *path, char *err, size_t errlen);
/* checks a file already in memory (buf must outlive f; nothing is copied) */
int st_parse(st_file *f, const void *buf, size_t size, char *err, size_t errlen);
void st_close(st_file *f);
const st_tensor *st_find(const st_file *f, const char *name);
const char *st_meta(const st_file *f, const char *key);
/* converts t (F32, F16, BF16 or F64) to f32 into out[numel]; -1 for any
 * other dtype */
int st_to_f32(const st_tensor *t, float *out);
/* tells the kernel the pages of t are no longer needed (they leave this
 * process's resident memory; the file is untouched) */
void st_release(const st_file *f, const st_tensor *t);

/* ---- a model folder: one file or shards -------------------------------- */
typedef struct {
	int nfile;
	st_file *file;
	int n;                         /* tensors over all files */
	const st_tensor **t;           /* sorted by name */
	int *fileof;                   /* t[i] lives in file[fileof[i]] */
} st_set;

/* dir/model.safetensors, or the shards dir/model.safetensors.index.json
 * names (each listed tensor must be in its shard; no name twice) */
int st_set_open(st_set *s, const char *dir, char *err, size_t errlen);
void st_set_close(st_set *s);
const st_tensor *st_set_find(const st_set *s, const char *name, const st_file **file);

/* ---- writing ----------------------------------------------------------- */
typedef struct {
	const char *name;
	int ndim;
	int64_t dim[ST_MAX_DIMS];
	const float *data;             /* F32, numel values */
} st_wtensor;

/* writes an F32 safetensors file as the reference writer lays it out
 * (prepare(): tensors by name, "__metadata__" first, header padded with
 * spaces to a multiple of 8); meta is n_meta key/value pairs.  Writes path
 * directly: the caller renames.  0 ok, -1 with err. */
int st_write(const char *path, int n, const st_wtensor *t, int n_meta,
             const char *const *meta_kv, char *err, size_t errlen);

#endif
