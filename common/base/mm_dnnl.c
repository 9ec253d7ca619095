/* mm_dnnl.c -- bf16 (and f32) matrix products through oneDNN's matmul
 * primitive, one primitive per shape kept in a small cache; see mm.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/mm.h"
#include "base/cpu.h"
#include "base/util.h"

/* the conversion loop vectorises (AVX-512 or AVX2, chosen at run time) */
CPU_CLONES void mm_to_bf16(const float *restrict x, uint16_t *restrict y, size_t n)
{
	for (size_t i = 0; i < n; i++) y[i] = mm_bf16_of(x[i]);
}

#ifdef SEQLM_DNNL

#include <oneapi/dnnl/dnnl.h>

/* libgomp's: oneDNN's parallel regions run on the calling thread alone */
extern void omp_set_num_threads(int);

typedef struct {
	int used, bf16, ta, tb, M, N, K, lda, ldb, ldc;
	float alpha, beta;
	dnnl_primitive_t prim;
	dnnl_memory_desc_t a_md, b_md, c_md;
	size_t scratch;
	char impl[48];
} mm_entry;

/* Open addressing, never shrinks: a run meets a few dozen shapes (the
 * attention of lmprobe's last layer up to T of them per product) */
enum { MM_CACHE = 4096 };
static struct {
	pthread_mutex_t mu;
	pthread_once_t once;
	dnnl_engine_t eng;
	mm_entry e[MM_CACHE];
	int n;
} mm = { .mu = PTHREAD_MUTEX_INITIALIZER, .once = PTHREAD_ONCE_INIT };

static __thread dnnl_stream_t mm_stream;
static __thread void *mm_scratch;
static __thread size_t mm_scratch_n;

static void mm_check(dnnl_status_t s, const char *what)
{
	if (s != dnnl_success) die("oneDNN: %s failed (status %d)", what, (int)s);
}

static void mm_engine(void)
{
	mm_check(dnnl_engine_create(&mm.eng, dnnl_cpu, 0), "engine_create");
}

const char *mm_bf16_unavailable(void)
{
	static char why[256];
	dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
	if ((isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16) return NULL;
	const char *name = isa == dnnl_cpu_isa_avx512_core_vnni ? "avx512_core_vnni" :
	                   isa == dnnl_cpu_isa_avx512_core ? "avx512_core" :
	                   isa == dnnl_cpu_isa_avx2_vnni ? "avx2_vnni" :
	                   isa == dnnl_cpu_isa_avx2 ? "avx2" : "older than avx2";
	snprintf(why, sizeof why, "this CPU lacks AVX512-BF16 (and AMX-BF16): oneDNN would emulate the "
	         "bf16 products (its instruction set here: %s%s); use --precision fp32", name,
	         getenv("DNNL_MAX_CPU_ISA") || getenv("ONEDNN_MAX_CPU_ISA") ? ", capped by DNNL_MAX_CPU_ISA" : "");
	return why;
}

const char *mm_backend(void)
{
	static char s[64];
	const dnnl_version_t *v = dnnl_version();
	snprintf(s, sizeof s, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
	return s;
}

static uint32_t mm_hash(const mm_entry *k)
{
	uint32_t h = 2166136261u;
	int v[] = { k->bf16, k->ta, k->tb, k->M, k->N, k->K, k->lda, k->ldb, k->ldc };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) h = (h ^ (uint32_t)v[i]) * 16777619u;
	union { float f; uint32_t u; } a = { .f = k->alpha }, b = { .f = k->beta };
	h = (h ^ a.u) * 16777619u;
	return (h ^ b.u) * 16777619u;
}

static int mm_same(const mm_entry *x, const mm_entry *k)
{
	return x->bf16 == k->bf16 && x->ta == k->ta && x->tb == k->tb && x->M == k->M && x->N == k->N &&
	       x->K == k->K && x->lda == k->lda && x->ldb == k->ldb && x->ldc == k->ldc &&
	       x->alpha == k->alpha && x->beta == k->beta;
}

/* row-major [rows, cols] with leading dimension ld, or its transpose */
static void mm_md(dnnl_memory_desc_t *md, int rows, int cols, int trans, int ld, dnnl_data_type_t dt)
{
	dnnl_dims_t dims = { rows, cols }, str = { trans ? 1 : ld, trans ? ld : 1 };
	mm_check(dnnl_memory_desc_init_by_strides(md, 2, dims, dt, str), "memory_desc_init");
}

/* on the calling thread, which has oneDNN at one thread: the primitive's
 * blocking is chosen for one thread too */
static void mm_create(mm_entry *e)
{
	dnnl_data_type_t in = e->bf16 ? dnnl_bf16 : dnnl_f32;
	mm_md(&e->a_md, e->M, e->K, e->ta, e->lda, in);
	mm_md(&e->b_md, e->K, e->N, e->tb, e->ldb, in);
	mm_md(&e->c_md, e->M, e->N, 0, e->ldc, dnnl_f32);
	dnnl_matmul_desc_t d;
	mm_check(dnnl_matmul_desc_init(&d, &e->a_md, &e->b_md, NULL, &e->c_md), "matmul_desc_init");
	dnnl_primitive_attr_t attr;
	mm_check(dnnl_primitive_attr_create(&attr), "attr_create");
	mm_check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad_mode");
	if (e->alpha != 1.0f) mm_check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &e->alpha), "output_scales");
	dnnl_post_ops_t po = NULL;
	if (e->beta != 0.0f) {
		mm_check(dnnl_post_ops_create(&po), "post_ops_create");
		mm_check(dnnl_post_ops_append_sum(po, e->beta), "append_sum");
		mm_check(dnnl_primitive_attr_set_post_ops(attr, po), "set_post_ops");
	}
	dnnl_primitive_desc_t pd;
	mm_check(dnnl_primitive_desc_create(&pd, &d, attr, mm.eng, NULL), "matmul primitive_desc_create");
	const char *impl = NULL;
	if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl)
		snprintf(e->impl, sizeof e->impl, "%s", impl);
	e->scratch = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
	mm_check(dnnl_primitive_create(&e->prim, pd), "primitive_create");
	dnnl_primitive_desc_destroy(pd);
	dnnl_primitive_attr_destroy(attr);
	if (po) dnnl_post_ops_destroy(po);
}

static __thread int mm_thread_ready;

static void mm_thread_init(void)
{
	if (mm_thread_ready) return;
	omp_set_num_threads(1);
	pthread_once(&mm.once, mm_engine);
	mm_check(dnnl_stream_create(&mm_stream, mm.eng, dnnl_stream_default_flags), "stream_create");
	mm_thread_ready = 1;
}

static mm_entry *mm_get(const mm_entry *k)
{
	mm_thread_init();
	pthread_mutex_lock(&mm.mu);
	uint32_t i = mm_hash(k) % MM_CACHE;
	while (mm.e[i].used && !mm_same(&mm.e[i], k)) i = (i + 1) % MM_CACHE;
	mm_entry *e = &mm.e[i];
	if (!e->used) {
		if (mm.n >= MM_CACHE - 1) die("oneDNN: more than %d product shapes", MM_CACHE - 1);
		*e = *k;
		mm_create(e);
		e->used = 1;
		mm.n++;
	}
	pthread_mutex_unlock(&mm.mu);
	return e;
}

static void mm_run(const mm_entry *k, const void *A, const void *B, float *C)
{
	if (k->M <= 0 || k->N <= 0) return;
	const mm_entry *e = mm_get(k);
	if (e->scratch > mm_scratch_n) {
		free(mm_scratch);
		mm_scratch = xaligned(e->scratch);
		mm_scratch_n = e->scratch;
	}
	dnnl_memory_t ma, mb, mc, ms = NULL;
	mm_check(dnnl_memory_create(&ma, &e->a_md, mm.eng, (void *)A), "memory_create");
	mm_check(dnnl_memory_create(&mb, &e->b_md, mm.eng, (void *)B), "memory_create");
	mm_check(dnnl_memory_create(&mc, &e->c_md, mm.eng, C), "memory_create");
	dnnl_exec_arg_t args[4] = { { DNNL_ARG_SRC, ma }, { DNNL_ARG_WEIGHTS, mb }, { DNNL_ARG_DST, mc } };
	int nargs = 3;
	if (e->scratch) {
		dnnl_memory_desc_t sd;
		dnnl_dims_t dims = { (dnnl_dim_t)e->scratch };
		mm_check(dnnl_memory_desc_init_by_tag(&sd, 1, dims, dnnl_u8, dnnl_a), "memory_desc_init");
		mm_check(dnnl_memory_create(&ms, &sd, mm.eng, mm_scratch), "memory_create");
		args[nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_SCRATCHPAD, ms };
	}
	mm_check(dnnl_primitive_execute(e->prim, mm_stream, nargs, args), "matmul execute");
	mm_check(dnnl_stream_wait(mm_stream), "stream_wait");
	dnnl_memory_destroy(ma);
	dnnl_memory_destroy(mb);
	dnnl_memory_destroy(mc);
	if (ms) dnnl_memory_destroy(ms);
}

void mm_gemm_bf16(int ta, int tb, int M, int N, int K, float alpha,
                  const uint16_t *A, int lda, const uint16_t *B, int ldb,
                  float beta, float *C, int ldc)
{
	mm_entry k = { .bf16 = 1, .ta = !!ta, .tb = !!tb, .M = M, .N = N, .K = K, .lda = lda, .ldb = ldb, .ldc = ldc, .alpha = alpha, .beta = beta };
	mm_run(&k, A, B, C);
}

void mm_gemm_f32(int ta, int tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc)
{
	mm_entry k = { .bf16 = 0, .ta = !!ta, .tb = !!tb, .M = M, .N = N, .K = K, .lda = lda, .ldb = ldb, .ldc = ldc, .alpha = alpha, .beta = beta };
	mm_run(&k, A, B, C);
}

const char *mm_impl(int bf16, int ta, int tb, int M, int N, int K, int lda, int ldb, int ldc)
{
	mm_entry k = { .bf16 = !!bf16, .ta = !!ta, .tb = !!tb, .M = M, .N = N, .K = K, .lda = lda, .ldb = ldb, .ldc = ldc, .alpha = 1.0f, .beta = 0.0f };
	return mm_get(&k)->impl;
}

#else   /* built without oneDNN */

const char *mm_bf16_unavailable(void)
{
	return "built without oneDNN (install libdnnl-dev and rebuild)";
}

const char *mm_backend(void) { return "no oneDNN"; }

static void mm_absent(void) __attribute__((noreturn));
static void mm_absent(void)
{
	fprintf(stderr, "mm: a oneDNN product called in a build without oneDNN\n");
	abort();
}

void mm_gemm_bf16(int ta, int tb, int M, int N, int K, float alpha, const uint16_t *A, int lda,
                  const uint16_t *B, int ldb, float beta, float *C, int ldc)
{
	(void)ta, (void)tb, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda;
	(void)B, (void)ldb, (void)beta, (void)C, (void)ldc;
	mm_absent();
}

void mm_gemm_f32(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc)
{
	(void)ta, (void)tb, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda;
	(void)B, (void)ldb, (void)beta, (void)C, (void)ldc;
	mm_absent();
}

const char *mm_impl(int bf16, int ta, int tb, int M, int N, int K, int lda, int ldb, int ldc)
{
	(void)bf16, (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)lda, (void)ldb, (void)ldc;
	return "none";
}

#endif
