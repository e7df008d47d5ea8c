/* AVX2 + FMA + F16C kernels (this file is compiled with -mavx2 -mfma -mf16c and only called
 * after a run-time CPU check). Same operation order as matmul_generic.c: identical bits. */
#include <immintrin.h>
#include <math.h>
#include "matmul.h"

/* ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)), as reduce8 in matmul_generic.c. */
static inline float hsum(__m256 a) {
  __m128 v = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1)); /* a0+a4, a1+a5, a2+a6, a3+a7 */
  v = _mm_add_ps(v, _mm_movehl_ps(v, v));                                          /* (a0+a4)+(a2+a6), (a1+a5)+(a3+a7) */
  return _mm_cvtss_f32(_mm_add_ss(v, _mm_shuffle_ps(v, v, 1)));
}

static inline float tail(float s, const float *x, const float *w, int k8, int k) {
  for (int p = k8; p < k; p++) s = fmaf(x[p], w[p], s);
  return s;
}

/* f32: 4 weight rows x 2 x rows per pass (8 accumulators); weights stream once per 2 rows. */
static void f32_avx2(float *out, const float *x, const void *wv, int n, int k, int m, int j0, int j1) {
  const float *w = (const float *)wv;
  const int k8 = k & ~7;
  int j = j0;
  for (; j + 4 <= j1; j += 4) {
    const float *w0 = w + (size_t)j * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    int i = 0;
    for (; i + 2 <= n; i += 2) {
      const float *x0 = x + (size_t)i * k, *x1 = x0 + k;
      __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      for (int p = 0; p < k8; p += 8) {
        __m256 c0 = _mm256_loadu_ps(x0 + p), c1 = _mm256_loadu_ps(x1 + p), b;
        b = _mm256_loadu_ps(w0 + p); a00 = _mm256_fmadd_ps(c0, b, a00); a10 = _mm256_fmadd_ps(c1, b, a10);
        b = _mm256_loadu_ps(w1 + p); a01 = _mm256_fmadd_ps(c0, b, a01); a11 = _mm256_fmadd_ps(c1, b, a11);
        b = _mm256_loadu_ps(w2 + p); a02 = _mm256_fmadd_ps(c0, b, a02); a12 = _mm256_fmadd_ps(c1, b, a12);
        b = _mm256_loadu_ps(w3 + p); a03 = _mm256_fmadd_ps(c0, b, a03); a13 = _mm256_fmadd_ps(c1, b, a13);
      }
      float *o0 = out + (size_t)i * m + j, *o1 = o0 + m;
      o0[0] = tail(hsum(a00), x0, w0, k8, k); o0[1] = tail(hsum(a01), x0, w1, k8, k);
      o0[2] = tail(hsum(a02), x0, w2, k8, k); o0[3] = tail(hsum(a03), x0, w3, k8, k);
      o1[0] = tail(hsum(a10), x1, w0, k8, k); o1[1] = tail(hsum(a11), x1, w1, k8, k);
      o1[2] = tail(hsum(a12), x1, w2, k8, k); o1[3] = tail(hsum(a13), x1, w3, k8, k);
    }
    for (; i < n; i++) {
      const float *x0 = x + (size_t)i * k;
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int p = 0; p < k8; p += 8) {
        __m256 c0 = _mm256_loadu_ps(x0 + p);
        a0 = _mm256_fmadd_ps(c0, _mm256_loadu_ps(w0 + p), a0); a1 = _mm256_fmadd_ps(c0, _mm256_loadu_ps(w1 + p), a1);
        a2 = _mm256_fmadd_ps(c0, _mm256_loadu_ps(w2 + p), a2); a3 = _mm256_fmadd_ps(c0, _mm256_loadu_ps(w3 + p), a3);
      }
      float *o0 = out + (size_t)i * m + j;
      o0[0] = tail(hsum(a0), x0, w0, k8, k); o0[1] = tail(hsum(a1), x0, w1, k8, k);
      o0[2] = tail(hsum(a2), x0, w2, k8, k); o0[3] = tail(hsum(a3), x0, w3, k8, k);
    }
  }
  for (; j < j1; j++) {
    const float *w0 = w + (size_t)j * k;
    for (int i = 0; i < n; i++) {
      const float *x0 = x + (size_t)i * k;
      __m256 a0 = _mm256_setzero_ps();
      for (int p = 0; p < k8; p += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x0 + p), _mm256_loadu_ps(w0 + p), a0);
      out[(size_t)i * m + j] = tail(hsum(a0), x0, w0, k8, k);
    }
  }
}

static inline __m256 widen8(__m128i bytes8) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes8)); }

/* One block's 32 weights as four f32x8 (q0: 0-7, q1: 8-15, q2: 16-23, q3: 24-31). */
static inline void q8_block(const uint8_t *blk, __m256 q[4]) {
  __m128i lo = _mm_loadu_si128((const __m128i *)(blk + 2)), hi = _mm_loadu_si128((const __m128i *)(blk + 18));
  q[0] = widen8(lo); q[1] = widen8(_mm_srli_si128(lo, 8)); q[2] = widen8(hi); q[3] = widen8(_mm_srli_si128(hi, 8));
}

static inline void q4_block(const uint8_t *blk, __m256 q[4]) {
  __m128i v = _mm_loadu_si128((const __m128i *)(blk + 2)), mask = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
  __m128i lo = _mm_sub_epi8(_mm_and_si128(v, mask), eight);
  __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), mask), eight);
  q[0] = widen8(lo); q[1] = widen8(_mm_srli_si128(lo, 8)); q[2] = widen8(hi); q[3] = widen8(_mm_srli_si128(hi, 8));
}

/* Block formats as f32 products over dequantized weights (w = d * q rounded to f32, as
 * dequantize() gives): four weight rows at a time are widened into a per-thread f32 tile and run
 * through f32_avx2, so a prefill or a batched step gets the f32 micro-kernel and every result equals
 * the f32 product over the dequantized matrix, whatever n (batch invariance). */
static void deq_q8_0(float *dst, const uint8_t *w, int k, int j, int cols) {
  const int nb = k / 32;
  __m256 q[4];
  for (int c = 0; c < cols; c++) {
    const uint8_t *wr = w + (size_t)(j + c) * nb * 34;
    float *o = dst + (size_t)c * k;
    for (int b = 0; b < nb; b++) {
      const uint8_t *blk = wr + (size_t)b * 34;
      const __m256 d = _mm256_set1_ps(_cvtsh_ss((unsigned short)(blk[0] | (blk[1] << 8))));
      q8_block(blk, q);
      for (int s = 0; s < 4; s++) _mm256_storeu_ps(o + b * 32 + s * 8, _mm256_mul_ps(q[s], d));
    }
  }
}

static void deq_q4_0(float *dst, const uint8_t *w, int k, int j, int cols) {
  const int nb = k / 32;
  __m256 q[4];
  for (int c = 0; c < cols; c++) {
    const uint8_t *wr = w + (size_t)(j + c) * nb * 18;
    float *o = dst + (size_t)c * k;
    for (int b = 0; b < nb; b++) {
      const uint8_t *blk = wr + (size_t)b * 18;
      const __m256 d = _mm256_set1_ps(_cvtsh_ss((unsigned short)(blk[0] | (blk[1] << 8))));
      q4_block(blk, q);
      for (int s = 0; s < 4; s++) _mm256_storeu_ps(o + b * 32 + s * 8, _mm256_mul_ps(q[s], d));
    }
  }
}

/* One x row (decode): each block widened, scaled and multiplied in registers, with the same
 * operations per output as through the tile (the same bits). */
#define FUSED_ROW(NAME, BYTES, WIDEN)                                                                   \
  static void NAME(float *out, const float *x, const uint8_t *w, int k, int j0, int j1) {              \
    const int nb = k / 32;                                                                             \
    __m256 q[4];                                                                                       \
    for (int j = j0; j < j1; j++) {                                                                    \
      const uint8_t *wr = w + (size_t)j * nb * BYTES;                                                  \
      __m256 a = _mm256_setzero_ps();                                                                  \
      for (int b = 0; b < nb; b++) {                                                                   \
        const uint8_t *blk = wr + (size_t)b * BYTES;                                                   \
        const __m256 d = _mm256_set1_ps(_cvtsh_ss((unsigned short)(blk[0] | (blk[1] << 8))));      \
        WIDEN(blk, q);                                                                                 \
        const float *xb = x + (size_t)b * 32;                                                          \
        for (int s = 0; s < 4; s++) a = _mm256_fmadd_ps(_mm256_loadu_ps(xb + s * 8), _mm256_mul_ps(q[s], d), a); \
      }                                                                                                \
      out[j] = hsum(a);                                                                                \
    }                                                                                                  \
  }
FUSED_ROW(q8_0_row, 34, q8_block)
FUSED_ROW(q4_0_row, 18, q4_block)

static void q8_0_avx2(float *out, const float *x, const void *wv, int n, int k, int m, int j0, int j1) {
  if (n == 1) { q8_0_row(out, x, (const uint8_t *)wv, k, j0, j1); return; }
  float *tile = tile_scratch((size_t)4 * k);
  for (int j = j0; j < j1; j += 4) {
    const int cols = j1 - j < 4 ? j1 - j : 4;
    deq_q8_0(tile, (const uint8_t *)wv, k, j, cols);
    f32_avx2(out + j, x, tile, n, k, m, 0, cols);
  }
}

static void q4_0_avx2(float *out, const float *x, const void *wv, int n, int k, int m, int j0, int j1) {
  if (n == 1) { q4_0_row(out, x, (const uint8_t *)wv, k, j0, j1); return; }
  float *tile = tile_scratch((size_t)4 * k);
  for (int j = j0; j < j1; j += 4) {
    const int cols = j1 - j < 4 ? j1 - j : 4;
    deq_q4_0(tile, (const uint8_t *)wv, k, j, cols);
    f32_avx2(out + j, x, tile, n, k, m, 0, cols);
  }
}

static void f16_avx2(float *out, const float *x, const void *wv, int n, int k, int m, int j0, int j1) {
  const uint16_t *w = (const uint16_t *)wv;
  const int k8 = k & ~7;
  for (int j = j0; j < j1; j++) {
    const uint16_t *wr = w + (size_t)j * k;
    for (int i = 0; i < n; i += 2) {
      const float *x0 = x + (size_t)i * k, *x1 = x0 + k;
      const int two = i + 1 < n;
      __m256 a0 = _mm256_setzero_ps(), a1 = a0;
      for (int p = 0; p < k8; p += 8) {
        __m256 b = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wr + p)));
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x0 + p), b, a0);
        if (two) a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x1 + p), b, a1);
      }
      float s0 = hsum(a0), s1 = hsum(a1);
      for (int p = k8; p < k; p++) {
        float wp = _cvtsh_ss(wr[p]);
        s0 = fmaf(x0[p], wp, s0);
        if (two) s1 = fmaf(x1[p], wp, s1);
      }
      out[(size_t)i * m + j] = s0;
      if (two) out[(size_t)(i + 1) * m + j] = s1;
    }
  }
}

const matmul_fn matmul_avx2[NUM_KINDS] = { f32_avx2, q8_0_avx2, q4_0_avx2, f16_avx2 };
