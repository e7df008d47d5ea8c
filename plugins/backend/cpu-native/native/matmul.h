/* Matrix products out[n*m] = x[n*k] . W[m*k]^T for columns j0..j1 of the output, per weight type.
 * Every output element is one dot product summed in a fixed order (8 lanes over k & ~7 blocks,
 * lanes reduced pairwise, then the tail), so a column range, a thread count or the number of x
 * rows never changes a result. */
#ifndef LLM_CPU_NATIVE_MATMUL_H
#define LLM_CPU_NATIVE_MATMUL_H
#include <stdint.h>

typedef void (*matmul_fn)(float *out, const float *x, const void *w, int n, int k, int m, int j0, int j1);

enum { KIND_F32 = 0, KIND_Q8_0 = 1, KIND_Q4_0 = 2, KIND_F16 = 3, NUM_KINDS = 4 };

/* Portable C versions (any x86-64 or other CPU). */
extern const matmul_fn matmul_generic[NUM_KINDS];
/* AVX2 + FMA + F16C versions; null entries where none exists. */
extern const matmul_fn matmul_avx2[NUM_KINDS];

float f16_to_f32(uint16_t h);

/* A per-thread f32 scratch of at least `floats` elements (grown as needed, kept for the thread's life). */
float *tile_scratch(size_t floats);

/* fn over columns j0..j1, in blocks of x rows small enough to stay in cache (about 48 KB each):
 * each weight chunk is then read from cache once per row block instead of x streaming from memory
 * once per weight row. Each output is computed as without blocking (same bits). */
void matmul_tiled(matmul_fn fn, float *out, const float *x, const void *w, int n, int k, int m, int j0, int j1);
#endif
