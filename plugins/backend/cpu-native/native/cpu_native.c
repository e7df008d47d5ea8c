/* The cpu-native addon (Node-API): matrix products over typed arrays, split by output columns
 * over a persistent thread pool. JS keeps every buffer; this code only reads x and the weights
 * and writes out.
 *   createPool(threads) -> pool handle (threads end when the handle is garbage-collected or destroyPool)
 *   matmul(pool, kind, out: Float32Array, x: Float32Array, w: TypedArray, n, k, m)
 *     (kind Q8_0 / Q4_0: x quantized to Q8_0 rows first, integer block dot products; q8act.h)
 *   attend(pool, mem: Uint8Array, tableAt, count, headDim, scale, parallel): paged attention over an
 *     item table in wasm memory (attention.h), on the pool when parallel; headDim a multiple of 8
 *   features() -> "avx2 fma f16c" or "generic"; numProcs() -> online CPUs
 * Bad arguments throw a RangeError with the reason (never a crash). */
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "matmul.h"
#include "pool.h"
#include "q8act.h"
#include "attention.h"

/* A pool and the scratch its Q8_0/Q4_0 products quantize x into (grown as needed, reused across calls). */
typedef struct {
  pool *p;
  void *qx;
  size_t qx_cap;
} pool_ref;

/* AVX2 kernels when the CPU has them, unless LLM_CPU_NATIVE_ISA=generic (tests compare the two). */
static int use_avx2(void) {
  static int cached = -1;
  if (cached < 0) {
    const char *isa = getenv("LLM_CPU_NATIVE_ISA");
    __builtin_cpu_init();
    cached = !(isa && isa[0] == 'g') && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  }
  return cached;
}

static void matmul_task(const void *ctx, int j0, int j1) { matmul_tiled((const matmul_job *)ctx, j0, j1); }

typedef struct {
  void *dst;
  const float *x;
  int k, avx2;
} quantize_job;

static void quantize_task(const void *ctx, int i0, int i1) {
  const quantize_job *q = (const quantize_job *)ctx;
  (q->avx2 ? quantize_rows_q8_0_avx2 : quantize_rows_q8_0_generic)(q->dst, q->x, q->k, i0, i1);
}

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

static int get_i32(napi_env env, napi_value v, int32_t *out) { return napi_get_value_int32(env, v, out) == napi_ok; }

static int get_array(napi_env env, napi_value v, void **data, size_t *bytes) {
  napi_typedarray_type type;
  size_t length, offset;
  napi_value ab;
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) != napi_ok) return 0;
  size_t elem = type == napi_float32_array || type == napi_int32_array || type == napi_uint32_array ? 4
              : type == napi_uint16_array || type == napi_int16_array ? 2
              : type == napi_float64_array ? 8 : 1;
  *bytes = length * elem;
  return 1;
}

static size_t weight_bytes(int kind, int k, int m) {
  switch (kind) {
    case KIND_F32: return (size_t)m * k * 4;
    case KIND_Q8_0: return (size_t)m * (k / 32) * 34;
    case KIND_Q4_0: return (size_t)m * (k / 32) * 18;
    case KIND_F16: return (size_t)m * k * 2;
  }
  return 0;
}

static void pool_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  pool_ref *r = (pool_ref *)data;
  pool_destroy(r->p);
  free(r->qx);
  free(r);
}

static napi_value create_pool(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ext;
  int32_t threads;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !get_i32(env, argv[0], &threads) || threads < 1 || threads > 1024)
    return fail(env, "createPool: threads must be an integer in 1..1024");
  pool_ref *r = calloc(1, sizeof *r);
  if (!r || !(r->p = pool_create(threads))) { free(r); return fail(env, "createPool: cannot start threads"); }
  if (napi_create_external(env, r, pool_finalize, NULL, &ext) != napi_ok) { pool_destroy(r->p); free(r); return fail(env, "createPool: cannot create handle"); }
  return ext;
}

static pool_ref *get_pool(napi_env env, napi_value v) {
  napi_valuetype t;
  void *data = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return (pool_ref *)data;
}

static napi_value destroy_pool(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  pool_ref *r;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !(r = get_pool(env, argv[0]))) return fail(env, "destroyPool: expected a pool");
  pool_destroy(r->p);
  r->p = pool_create(1);
  return NULL;
}

static napi_value pool_size(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], v;
  pool_ref *r;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !(r = get_pool(env, argv[0]))) return fail(env, "poolThreads: expected a pool");
  napi_create_int32(env, pool_threads(r->p), &v);
  return v;
}

static napi_value matmul(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 8) return fail(env, "matmul: expected 8 arguments (pool, kind, out, x, w, n, k, m)");
  pool_ref *pr = get_pool(env, argv[0]);
  if (!pr) return fail(env, "matmul: the first argument must be a pool from createPool()");
  int32_t kind, n, k, m;
  void *out, *x, *w;
  size_t out_b, x_b, w_b;
  if (!get_i32(env, argv[1], &kind) || kind < 0 || kind >= NUM_KINDS) return fail(env, "matmul: unknown kind");
  if (!get_array(env, argv[2], &out, &out_b) || !get_array(env, argv[3], &x, &x_b) || !get_array(env, argv[4], &w, &w_b))
    return fail(env, "matmul: out, x and w must be typed arrays");
  if (!get_i32(env, argv[5], &n) || !get_i32(env, argv[6], &k) || !get_i32(env, argv[7], &m)) return fail(env, "matmul: n, k and m must be integers");
  if (n < 0 || k < 1 || m < 1) return fail(env, "matmul: need n >= 0, k >= 1, m >= 1");
  if ((kind == KIND_Q8_0 || kind == KIND_Q4_0) && k % 32) return fail(env, "matmul: block formats need k % 32 == 0");
  if (out_b < (size_t)n * m * 4 || x_b < (size_t)n * k * 4 || w_b < weight_bytes(kind, k, m)) {
    char msg[160];
    snprintf(msg, sizeof msg, "matmul: arrays too small for n=%d k=%d m=%d (out %zu, x %zu, w %zu bytes)", n, k, m, out_b, x_b, w_b);
    return fail(env, msg);
  }
  if (n == 0) return NULL;
  const int avx2 = use_avx2(), threads = pool_threads(pr->p);
  /* Small products stay on this thread; larger ones go to the pool in chunks of about 4 per thread. */
  const int parallel = (long long)n * k * m >= (1 << 17) && m >= 32 && threads > 1;
  matmul_job job = { (avx2 && matmul_avx2[kind]) ? matmul_avx2[kind] : matmul_generic[kind], (float *)out, x, (size_t)k * 4, 0, w, n, k, m };
  if (kind == KIND_Q8_0 || kind == KIND_Q4_0) {
    /* x quantized once per call (row chunks over the pool when large) into scratch kept across
     * calls; the products then take all rows in one block (the kernels stream x rows past a weight
     * tile that stays in cache). */
    const size_t need = (size_t)n * Q8_ROW_BYTES(k);
    if (need > pr->qx_cap) {
      void *grown = realloc(pr->qx, need);
      if (!grown) return fail(env, "matmul: out of memory for the quantized activations");
      pr->qx = grown;
      pr->qx_cap = need;
    }
    const quantize_job q = { pr->qx, (const float *)x, k, avx2 };
    const int rows = (int)(32768 / k) + 1;
    if (parallel && n > rows) pool_run(pr->p, quantize_task, &q, n, rows);
    else quantize_task(&q, 0, n);
    job.x = pr->qx;
    job.x_stride = Q8_ROW_BYTES(k);
  } else {
    int rows = 49152 / (4 * k);
    job.block_rows = rows < 4 ? 4 : rows & ~3;
  }
  if (!parallel) {
    matmul_tiled(&job, 0, m);
    return NULL;
  }
  /* Column chunks are multiples of 8 (the Q8_0/Q4_0 kernels' tile width). */
  int chunk = (m + threads * 4 - 1) / (threads * 4);
  chunk = chunk < 16 ? 16 : (chunk + 7) & ~7;
  pool_run(pr->p, matmul_task, &job, m, chunk);
  return NULL;
}

static void attend_task(const void *ctx, int i0, int i1) {
  attend_job *job = (attend_job *)ctx;
  (use_avx2() ? attend_items_avx2 : attend_items_generic)(job, i0, i1);
}

static napi_value attend(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  bool parallel = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7 || napi_get_value_bool(env, argv[6], &parallel) != napi_ok)
    return fail(env, "attend: expected 7 arguments (pool, mem, tableAt, count, headDim, scale, parallel)");
  pool_ref *pr = get_pool(env, argv[0]);
  if (!pr) return fail(env, "attend: the first argument must be a pool from createPool()");
  void *mem;
  size_t mem_b;
  int32_t table_at, count, head_dim;
  double scale;
  if (!get_array(env, argv[1], &mem, &mem_b)) return fail(env, "attend: mem must be a typed array over the kernels' memory");
  if (!get_i32(env, argv[2], &table_at) || !get_i32(env, argv[3], &count) || !get_i32(env, argv[4], &head_dim) || napi_get_value_double(env, argv[5], &scale) != napi_ok)
    return fail(env, "attend: tableAt, count and headDim must be integers and scale a number");
  if (head_dim < 8 || head_dim % 8 || count < 0 || table_at < 0 || table_at % 4 || (size_t)table_at + (size_t)count * 24 > mem_b)
    return fail(env, "attend: need headDim a positive multiple of 8 and a table of count items inside the memory");
  if (count == 0) return NULL;
  attend_job job = { (uint8_t *)mem, mem_b, (const int32_t *)((uint8_t *)mem + table_at), head_dim, (float)scale, 0 };
  const int threads = pool_threads(pr->p);
  /* Chunks of 4 items: the AVX2 kernel runs a chunk's items that share keys as one tile. */
  if (parallel && threads > 1 && count >= 8 * threads) pool_run(pr->p, attend_task, &job, count, 4);
  else attend_task(&job, 0, count);
  if (job.error) return fail(env, "attend: an item's addresses fall outside the kernels' memory");
  return NULL;
}

static napi_value features(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s;
  const char *f = use_avx2() ? "avx2 fma f16c" : "generic";
  napi_create_string_utf8(env, f, NAPI_AUTO_LENGTH, &s);
  return s;
}

static napi_value max_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_int32(env, (int32_t)sysconf(_SC_NPROCESSORS_ONLN), &v);
  return v;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    { "matmul", NULL, matmul, NULL, NULL, NULL, napi_enumerable, NULL },
    { "attend", NULL, attend, NULL, NULL, NULL, napi_enumerable, NULL },
    { "createPool", NULL, create_pool, NULL, NULL, NULL, napi_enumerable, NULL },
    { "destroyPool", NULL, destroy_pool, NULL, NULL, NULL, napi_enumerable, NULL },
    { "poolThreads", NULL, pool_size, NULL, NULL, NULL, napi_enumerable, NULL },
    { "features", NULL, features, NULL, NULL, NULL, napi_enumerable, NULL },
    { "numProcs", NULL, max_threads, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
