/* AVX2 + FMA + F16C kernels (this file is compiled with -mavx2 -mfma -mf16c and only called
 * after a run-time CPU check). Same operation order as matmul_generic.c: identical bits. Q8_0 and
 * Q4_0 are in q8act_avx2.c. */
#include <immintrin.h>
#include <math.h>
#include "matmul.h"
#include "q8act.h"

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
static void f32_avx2(float *out, const void *xv, const void *wv, int n, int k, int m, int j0, int j1) {
  const float *x = (const float *)xv, *w = (const float *)wv;
  const int k8 = k & ~7;
  int j = j0;
  if (n == 1 && (size_t)k * (size_t)m >= 65536) {
    /* One x row (decode) of a matrix too large to stay in cache (256 KiB and up): one weight row
     * at a time, so the weights stream in address order; smaller ones keep 4 independent sums. */
    for (; j < j1; j++) {
      const float *w0 = w + (size_t)j * k;
      __m256 a0 = _mm256_setzero_ps();
      for (int p = 0; p < k8; p += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p), _mm256_loadu_ps(w0 + p), a0);
      out[j] = tail(hsum(a0), x, w0, k8, k);
    }
    return;
  }
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

static void f16_avx2(float *out, const void *xv, const void *wv, int n, int k, int m, int j0, int j1) {
  const float *x = (const float *)xv;
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

const matmul_fn matmul_avx2[NUM_KINDS] = { f32_avx2, q8_0_q8act_avx2, q4_0_q8act_avx2, f16_avx2 };
