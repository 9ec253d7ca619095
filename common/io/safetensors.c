/* safetensors.c -- HuggingFace safetensors files (see safetensors.h) */
#include "io/safetensors.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/util.h"
#include "io/tns.h"

/* every dtype of tensor.rs's Dtype with its size in bits: a file may hold
 * tensors seqlm does not convert (position_ids is I64), and they must still
 * tile the buffer; a name not in this list is an error */
static const struct { const char *name; int bits; st_dtype d; } dtypes[] = {
	{ "BOOL", 8, ST_OTHER }, { "F4", 4, ST_OTHER }, { "F6_E2M3", 6, ST_OTHER },
	{ "F6_E3M2", 6, ST_OTHER }, { "U8", 8, ST_OTHER }, { "I8", 8, ST_OTHER },
	{ "F8_E5M2", 8, ST_OTHER }, { "F8_E4M3", 8, ST_OTHER }, { "F8_E8M0", 8, ST_OTHER },
	{ "F8_E4M3FNUZ", 8, ST_OTHER }, { "F8_E5M2FNUZ", 8, ST_OTHER },
	{ "I16", 16, ST_OTHER }, { "U16", 16, ST_OTHER }, { "F16", 16, ST_F16 },
	{ "BF16", 16, ST_BF16 }, { "I32", 32, ST_OTHER }, { "U32", 32, ST_OTHER },
	{ "F32", 32, ST_F32 }, { "C64", 64, ST_OTHER }, { "F64", 64, ST_F64 },
	{ "I64", 64, ST_OTHER }, { "U64", 64, ST_OTHER },
};

static void meta_free(st_file *f)
{
	for (int i = 0; i < f->nmeta; i++) { free(f->meta_key[i]); free(f->meta_val[i]); }
	free(f->meta_key); free(f->meta_val);
	f->meta_key = f->meta_val = NULL;
	f->nmeta = 0;
}

void st_close(st_file *f)
{
	for (int i = 0; i < f->n; i++) free(f->t[i].name);
	free(f->t);
	meta_free(f);
	if (f->map && f->path) munmap(f->map, f->size);
	free(f->path);
	memset(f, 0, sizeof *f);
}

/* a JSON number that is a whole number in [0, 2^63) */
static int json_u63(const cJSON *j, uint64_t *v)
{
	if (!cJSON_IsNumber(j)) return -1;
	double x = j->valuedouble;
	if (!(x >= 0 && x < 9223372036854775808.0) || x != (double)(uint64_t)x) return -1;
	*v = (uint64_t)x;
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const st_tensor *x = a, *y = b;
	if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
	return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

static int by_name_ptr(const void *a, const void *b)
{
	return strcmp((*(const st_tensor *const *)a)->name, (*(const st_tensor *const *)b)->name);
}

/* one tensor entry of the header into t */
static int parse_entry(const cJSON *e, st_tensor *t, char *err, size_t len)
{
	if (!cJSON_IsObject(e)) { snprintf(err, len, "tensor %s: entry is not a JSON object", t->name); return -1; }
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
	const cJSON *of = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
	if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of)) {
		snprintf(err, len, "tensor %s: needs \"dtype\" (a string), \"shape\" and \"data_offsets\" (arrays)", t->name);
		return -1;
	}
	int bits = 0;
	for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
		if (strcmp(dt->valuestring, dtypes[i].name) == 0) {
			bits = dtypes[i].bits;
			t->dtype = dtypes[i].d;
			snprintf(t->dtype_name, sizeof t->dtype_name, "%s", dtypes[i].name);
		}
	if (!bits) { snprintf(err, len, "tensor %s: unknown dtype \"%.40s\"", t->name, dt->valuestring); return -1; }
	int nd = cJSON_GetArraySize(sh);
	if (nd > ST_MAX_DIMS) { snprintf(err, len, "tensor %s: %d dimensions (at most %d)", t->name, nd, ST_MAX_DIMS); return -1; }
	t->ndim = nd;
	uint64_t numel = 1, v;
	for (int d = 0; d < nd; d++) {
		if (json_u63(cJSON_GetArrayItem(sh, d), &v) != 0) {
			snprintf(err, len, "tensor %s: shape holds something other than a size", t->name);
			return -1;
		}
		t->dim[d] = (int64_t)v;
		if (__builtin_mul_overflow(numel, v, &numel) || numel > INT64_MAX) {
			snprintf(err, len, "tensor %s: shape overflows (dimension %d is %" PRIu64 ")", t->name, d, v);
			return -1;
		}
	}
	uint64_t nbits;
	if (__builtin_mul_overflow(numel, (uint64_t)bits, &nbits)) {
		snprintf(err, len, "tensor %s: size overflows (%" PRIu64 " elements of %s)", t->name, numel, t->dtype_name);
		return -1;
	}
	if (nbits % 8) { snprintf(err, len, "tensor %s: %" PRIu64 " bits is not whole bytes", t->name, nbits); return -1; }
	t->numel = (int64_t)numel;
	uint64_t b, e2;
	if (cJSON_GetArraySize(of) != 2 || json_u63(cJSON_GetArrayItem(of, 0), &b) || json_u63(cJSON_GetArrayItem(of, 1), &e2)) {
		snprintf(err, len, "tensor %s: data_offsets is not [begin, end]", t->name);
		return -1;
	}
	if (e2 < b) { snprintf(err, len, "tensor %s: data_offsets end %" PRIu64 " before begin %" PRIu64, t->name, e2, b); return -1; }
	if (e2 - b != nbits / 8) {
		snprintf(err, len, "tensor %s: data_offsets cover %" PRIu64 " bytes but %s x shape is %" PRIu64,
		         t->name, e2 - b, t->dtype_name, nbits / 8);
		return -1;
	}
	t->offset = b;
	t->nbytes = e2 - b;
	return 0;
}

static int parse_meta(st_file *f, const cJSON *m, char *err, size_t len)
{
	if (f->meta_key) { snprintf(err, len, "\"__metadata__\" appears twice"); return -1; }
	if (!cJSON_IsObject(m)) { snprintf(err, len, "\"__metadata__\" is not a JSON object"); return -1; }
	int n = cJSON_GetArraySize(m);
	f->meta_key = calloc(n + 1, sizeof *f->meta_key);
	f->meta_val = calloc(n + 1, sizeof *f->meta_val);
	if (!f->meta_key || !f->meta_val) { snprintf(err, len, "out of memory"); return -1; }
	const cJSON *kv;
	cJSON_ArrayForEach(kv, m) {
		if (!cJSON_IsString(kv)) {
			snprintf(err, len, "\"__metadata__\" value of %.80s is not a string", kv->string);
			return -1;
		}
		f->meta_key[f->nmeta] = strdup(kv->string);
		f->meta_val[f->nmeta] = strdup(kv->valuestring);
		if (!f->meta_key[f->nmeta] || !f->meta_val[f->nmeta]) { snprintf(err, len, "out of memory"); return -1; }
		f->nmeta++;
	}
	return 0;
}

int st_parse(st_file *f, const void *buf, size_t size, char *err, size_t len)
{
	const unsigned char *p = buf;
	cJSON *root = NULL;
	st_tensor **byname = NULL;
	memset(f, 0, sizeof *f);
	if (size < 8) { snprintf(err, len, "truncated: %zu bytes, not even the 8-byte header length", size); return -1; }
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--) n = n << 8 | p[i];
	if (n > ST_MAX_HEADER) {
		snprintf(err, len, "header length %" PRIu64 " exceeds the format's limit of %u bytes", n, ST_MAX_HEADER);
		return -1;
	}
	if (n > size - 8) {
		snprintf(err, len, "header length %" PRIu64 " runs past the end of the file (%zu bytes)", n, size);
		return -1;
	}
	const char *h = (const char *)p + 8, *end = NULL;
	root = cJSON_ParseWithLengthOpts(h, n, &end, 0);
	if (!root) { snprintf(err, len, "header is not valid JSON (near byte %td of it)", (cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - h : 0) + 8); goto fail; }
	for (const char *q = end; q < h + n; q++)   /* the writer pads with spaces */
		if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
			snprintf(err, len, "header has bytes after its JSON object");
			goto fail;
		}
	if (!cJSON_IsObject(root)) { snprintf(err, len, "header is not a JSON object"); goto fail; }
	int nent = cJSON_GetArraySize(root);
	f->t = calloc(nent ? nent : 1, sizeof *f->t);
	if (!f->t) { snprintf(err, len, "out of memory"); goto fail; }
	const cJSON *e;
	cJSON_ArrayForEach(e, root) {
		if (strcmp(e->string, "__metadata__") == 0) {
			if (parse_meta(f, e, err, len) != 0) goto fail;
			continue;
		}
		st_tensor *t = &f->t[f->n++];
		if (!(t->name = strdup(e->string))) { snprintf(err, len, "out of memory"); goto fail; }
		if (parse_entry(e, t, err, len) != 0) goto fail;
	}
	cJSON_Delete(root);
	root = NULL;
	/* unique names */
	byname = malloc((f->n ? f->n : 1) * sizeof *byname);
	if (!byname) { snprintf(err, len, "out of memory"); goto fail; }
	for (int i = 0; i < f->n; i++) byname[i] = &f->t[i];
	qsort(byname, f->n, sizeof *byname, by_name_ptr);
	for (int i = 1; i < f->n; i++)
		if (strcmp(byname[i - 1]->name, byname[i]->name) == 0) {
			snprintf(err, len, "tensor name %.200s appears twice", byname[i]->name);
			goto fail;
		}
	free(byname);
	byname = NULL;
	/* the layout: sorted by offsets, the tensors tile the buffer */
	qsort(f->t, f->n, sizeof *f->t, by_offset);
	uint64_t dlen = size - 8 - n, at = 0;
	for (int i = 0; i < f->n; i++) {
		st_tensor *t = &f->t[i];
		uint64_t b = t->offset, e2 = b + t->nbytes;
		if (b < at) {
			snprintf(err, len, "tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 ") overlap the previous tensor (ends at %" PRIu64 ")",
			         t->name, b, e2, at);
			goto fail;
		}
		if (b > at) {
			snprintf(err, len, "tensor %s: a gap of %" PRIu64 " bytes before its data_offsets [%" PRIu64 ", %" PRIu64 ")",
			         t->name, b - at, b, e2);
			goto fail;
		}
		if (e2 > dlen) {
			snprintf(err, len, "tensor %s: data_offsets [%" PRIu64 ", %" PRIu64 ") out of bounds: the data has %" PRIu64
			         " bytes (a truncated file?)", t->name, b, e2, dlen);
			goto fail;
		}
		t->data = p + 8 + n + b;
		at = e2;
	}
	if (at != dlen) {
		snprintf(err, len, "the tensors cover %" PRIu64 " bytes of data but the file holds %" PRIu64 " after the header",
		         at, dlen);
		goto fail;
	}
	f->map = (unsigned char *)p;
	f->size = size;
	return 0;
fail:
	cJSON_Delete(root);
	free(byname);
	st_close(f);
	return -1;
}

int st_open(st_file *f, const char *path, char *err, size_t len)
{
	memset(f, 0, sizeof *f);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) { snprintf(err, len, "cannot open: %s", strerror(errno)); return -1; }
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, len, "not a regular file");
		close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	void *map = NULL;
	if (size) {
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			snprintf(err, len, "cannot map: %s", strerror(errno));
			close(fd);
			return -1;
		}
		madvise(map, size, MADV_SEQUENTIAL);
	}
	close(fd);
	static const unsigned char none[8];
	if (st_parse(f, map ? map : (void *)none, size, err, len) != 0) {
		if (map) munmap(map, size);
		return -1;
	}
	f->path = strdup(path);
	if (!f->path) { if (map) munmap(map, size); st_close(f); snprintf(err, len, "out of memory"); return -1; }
	return 0;
}

const st_tensor *st_find(const st_file *f, const char *name)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
	return NULL;
}

const char *st_meta(const st_file *f, const char *key)
{
	for (int i = 0; i < f->nmeta; i++)
		if (strcmp(f->meta_key[i], key) == 0) return f->meta_val[i];
	return NULL;
}

int st_to_f32(const st_tensor *t, float *out)
{
	const unsigned char *p = t->data;
	int64_t n = t->numel;
	switch (t->dtype) {
	case ST_F32:
		memcpy(out, p, (size_t)n * 4);
		return 0;
	case ST_F16:
		for (int64_t i = 0; i < n; i++) out[i] = tns_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
		return 0;
	case ST_BF16:                    /* the upper half of an f32: exact */
		for (int64_t i = 0; i < n; i++) {
			uint32_t u = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8) << 16;
			memcpy(&out[i], &u, 4);
		}
		return 0;
	case ST_F64:                     /* rounded to nearest, as torch's .float() */
		for (int64_t i = 0; i < n; i++) { double d; memcpy(&d, p + 8 * i, 8); out[i] = (float)d; }
		return 0;
	default:
		return -1;
	}
}

void st_release(const st_file *f, const st_tensor *t)
{
	if (!f->path || !t->nbytes) return;      /* not a mapping of ours */
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t b = ((uintptr_t)t->data + pg - 1) & ~(uintptr_t)(pg - 1);
	uintptr_t e = ((uintptr_t)t->data + t->nbytes) & ~(uintptr_t)(pg - 1);
	if (e > b) madvise((void *)b, e - b, MADV_DONTNEED);
}

/* ---- a folder: one file or shards ---------------------------------------- */
void st_set_close(st_set *s)
{
	for (int i = 0; i < s->nfile; i++) st_close(&s->file[i]);
	free(s->file);
	free(s->t);
	free(s->fileof);
	memset(s, 0, sizeof *s);
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int st_set_open(st_set *s, const char *dir, char *err, size_t len)
{
	char path[4096], e[512];
	memset(s, 0, sizeof *s);
	snprintf(path, sizeof path, "%s/model.safetensors", dir);
	char **shard = NULL;
	int nshard = 0;
	cJSON *idx = NULL;
	if (access(path, F_OK) == 0) {
		shard = malloc(sizeof *shard);
		shard[nshard++] = strdup("model.safetensors");
	} else {
		snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
		size_t n;
		char *text = util_read_small(path, ST_MAX_HEADER, &n, "too large", err, len);
		if (!text) return -1;
		idx = cJSON_ParseWithLength(text, n);
		free(text);
		const cJSON *wm = idx ? cJSON_GetObjectItemCaseSensitive(idx, "weight_map") : NULL;
		if (!cJSON_IsObject(wm)) {
			snprintf(err, len, "%s: %s", path, idx ? "no \"weight_map\" object" : "not valid JSON");
			cJSON_Delete(idx);
			return -1;
		}
		int nw = cJSON_GetArraySize(wm);
		shard = calloc(nw ? nw : 1, sizeof *shard);
		const cJSON *kv;
		cJSON_ArrayForEach(kv, wm) {
			if (!cJSON_IsString(kv) || strchr(kv->valuestring, '/') || kv->valuestring[0] == '.' ||
			    !kv->valuestring[0]) {
				snprintf(err, len, "%s: weight_map entry %.100s is not a file name in the folder", path, kv->string);
				goto fail;
			}
			shard[nshard++] = strdup(kv->valuestring);
		}
		qsort(shard, nshard, sizeof *shard, str_cmp);
		int u = 0;
		for (int i = 0; i < nshard; i++) {
			if (u && strcmp(shard[u - 1], shard[i]) == 0) { free(shard[i]); continue; }
			shard[u++] = shard[i];
		}
		nshard = u;
		if (!nshard) { snprintf(err, len, "%s: the weight_map is empty", path); goto fail; }
	}
	s->file = calloc(nshard, sizeof *s->file);
	int total = 0;
	for (int i = 0; i < nshard; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, shard[i]);
		if (st_open(&s->file[i], path, e, sizeof e) != 0) {
			snprintf(err, len, "%s: %s", path, e);
			goto fail;
		}
		s->nfile++;
		total += s->file[i].n;
	}
	s->t = malloc((total ? total : 1) * sizeof *s->t);
	s->fileof = malloc((total ? total : 1) * sizeof *s->fileof);
	for (int i = 0; i < s->nfile; i++)
		for (int j = 0; j < s->file[i].n; j++) s->t[s->n++] = &s->file[i].t[j];
	qsort(s->t, s->n, sizeof *s->t, by_name_ptr);
	for (int i = 0; i < s->n; i++) {
		if (i && strcmp(s->t[i - 1]->name, s->t[i]->name) == 0) {
			snprintf(err, len, "%s: tensor %.200s is in two shards", dir, s->t[i]->name);
			goto fail;
		}
		for (int k = 0; k < s->nfile; k++)
			if (s->t[i] >= s->file[k].t && s->t[i] < s->file[k].t + s->file[k].n) s->fileof[i] = k;
	}
	if (idx) {   /* every weight_map entry is in the shard it names */
		const cJSON *kv;
		cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(idx, "weight_map")) {
			const st_file *in;
			const st_tensor *t = st_set_find(s, kv->string, &in);
			char want[4096];
			snprintf(want, sizeof want, "%s/%s", dir, kv->valuestring);
			if (!t || strcmp(in->path, want) != 0) {
				snprintf(err, len, "%s/model.safetensors.index.json: tensor %.200s is not in %s", dir, kv->string, kv->valuestring);
				goto fail;
			}
		}
	}
	for (int i = 0; i < nshard; i++) free(shard[i]);
	free(shard);
	cJSON_Delete(idx);
	return 0;
fail:
	for (int i = 0; i < nshard; i++) free(shard[i]);
	free(shard);
	cJSON_Delete(idx);
	st_set_close(s);
	return -1;
}

const st_tensor *st_set_find(const st_set *s, const char *name, const st_file **file)
{
	int lo = 0, hi = s->n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = strcmp(s->t[mid]->name, name);
		if (!c) { if (file) *file = &s->file[s->fileof[mid]]; return s->t[mid]; }
		if (c < 0) lo = mid + 1; else hi = mid - 1;
	}
	return NULL;
}

/* ---- writing ------------------------------------------------------------ */
static int by_wname(const void *a, const void *b)
{
	return strcmp((*(const st_wtensor *const *)a)->name, (*(const st_wtensor *const *)b)->name);
}

static int put(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t k = write(fd, c, n);
		if (k < 0 && errno == EINTR) continue;
		if (k < 0) return -1;
		c += k, n -= (size_t)k;
	}
	return 0;
}

int st_write(const char *path, int n, const st_wtensor *t, int n_meta, const char *const *meta_kv,
             char *err, size_t len)
{
	const st_wtensor **o = malloc((n ? n : 1) * sizeof *o);
	cJSON *root = cJSON_CreateObject();
	char *json = NULL;
	int fd = -1, rc = -1;
	if (!o || !root) { snprintf(err, len, "out of memory"); goto done; }
	for (int i = 0; i < n; i++) o[i] = &t[i];
	qsort(o, n, sizeof *o, by_wname);   /* one dtype: prepare() orders by name */
	if (n_meta) {
		cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
		for (int i = 0; i < n_meta; i++) cJSON_AddStringToObject(m, meta_kv[2 * i], meta_kv[2 * i + 1]);
	}
	uint64_t off = 0;
	for (int i = 0; i < n; i++) {
		cJSON *e = cJSON_AddObjectToObject(root, o[i]->name);
		cJSON_AddStringToObject(e, "dtype", "F32");
		cJSON *sh = cJSON_AddArrayToObject(e, "shape");
		uint64_t numel = 1;
		for (int d = 0; d < o[i]->ndim; d++) {
			cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)o[i]->dim[d]));
			numel *= (uint64_t)o[i]->dim[d];
		}
		cJSON *of = cJSON_AddArrayToObject(e, "data_offsets");
		cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
		off += numel * 4;
		cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
	}
	json = cJSON_PrintUnformatted(root);
	if (!json) { snprintf(err, len, "out of memory"); goto done; }
	size_t jl = strlen(json), hl = (jl + 7) / 8 * 8;
	unsigned char head[8];
	for (int i = 0; i < 8; i++) head[i] = (unsigned char)((uint64_t)hl >> (8 * i));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) { snprintf(err, len, "cannot create: %s", strerror(errno)); goto done; }
	static const char spaces[8] = "        ";
	if (put(fd, head, 8) || put(fd, json, jl) || put(fd, spaces, hl - jl)) goto werr;
	for (int i = 0; i < n; i++) {
		uint64_t numel = 1;
		for (int d = 0; d < o[i]->ndim; d++) numel *= (uint64_t)o[i]->dim[d];
		if (put(fd, o[i]->data, numel * 4)) goto werr;
	}
	if (close(fd) != 0) { fd = -1; goto werr; }
	fd = -1;
	rc = 0;
	goto done;
werr:
	snprintf(err, len, "write failed: %s", strerror(errno));
done:
	if (fd >= 0) close(fd);
	free(json);
	cJSON_Delete(root);
	free(o);
	return rc;
}
