/* Matrix products out[n*m] = x[n*k] . W[m*k]^T for columns j0..j1 of the output, per weight type.
 * f32 and F16: every output element is one dot product summed in a fixed order (8 lanes over
 * k & ~7, lanes reduced pairwise, then the tail). Q8_0 and Q4_0: x arrives quantized to Q8_0 rows
 * (q8act.h) and each output follows the q8-activation contract (exact int32 block sums,
 * acc = acc + (float)isum * (dx * dw) block by block, no fused multiply-add). Either way a column
 * range, a thread count or the number of x rows never changes a result. */
#ifndef LLM_CPU_NATIVE_MATMUL_H
#define LLM_CPU_NATIVE_MATMUL_H
#include <stddef.h>
#include <stdint.h>

/* x: f32 rows (f32, F16) or quantized rows laid out as q8act.h says (Q8_0, Q4_0). */
typedef void (*matmul_fn)(float *out, const void *x, const void *w, int n, int k, int m, int j0, int j1);

enum { KIND_F32 = 0, KIND_Q8_0 = 1, KIND_Q4_0 = 2, KIND_F16 = 3, NUM_KINDS = 4 };

/* Portable C versions (any x86-64 or other CPU). */
extern const matmul_fn matmul_generic[NUM_KINDS];
/* AVX2 + FMA + F16C versions; null entries where none exists. */
extern const matmul_fn matmul_avx2[NUM_KINDS];

float f16_to_f32(uint16_t h);

/* A per-thread scratch of at least `floats` f32 elements (grown as needed, kept for the thread's life). */
float *tile_scratch(size_t floats);

/* One product, as the pool hands it out: x rows are x_stride bytes apart, and fn runs over blocks
 * of block_rows rows at a time (small enough that x stays in cache while a weight chunk is read). */
typedef struct {
  matmul_fn fn;
  float *out;
  const void *x;
  size_t x_stride;
  int block_rows;
  const void *w;
  int n, k, m;
} matmul_job;

/* job->fn over columns j0..j1, block_rows x rows at a time. Each output is computed as without
 * blocking (same bits). */
void matmul_tiled(const matmul_job *job, int j0, int j1);
#endif
