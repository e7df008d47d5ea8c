/* The AVX2 + FMA attention kernel (see attention.h); bit-identical to attention_generic.c. */
#include <immintrin.h>
#include <math.h>
#include "attention.h"

static inline __m256 exp_neg8(__m256 x) {
  const __m256 cut = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_GE_OQ);
  const __m256 t = _mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f));
  const __m256 n = _mm256_floor_ps(t);
  const __m256 f = _mm256_sub_ps(t, n);
  __m256 p = _mm256_set1_ps(2.1877504756454154e-4f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.238782147949024e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.684580452660593e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.548042632544682e-2f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.402305020450907e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.93146928693023e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.000000002586889f));
  /* n >= -126 wherever x >= -87, so the exponent field is valid on every lane kept. */
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(_mm256_max_ps(n, _mm256_set1_ps(-127.0f))), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), cut);
}

/* Lane k = reduce8(a_k): ((x0+x1)+(x2+x3)) + ((x4+x5)+(x6+x7)) for each of the eight vectors. */
static inline __m256 reduce8x8(const __m256 a[8]) {
  const __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 h0123 = _mm256_hadd_ps(h01, h23), h4567 = _mm256_hadd_ps(h45, h67);
  /* h0123 = [a0_0123, a1_0123, a2_0123, a3_0123 | a0_4567, ..., a3_4567] */
  const __m256 lo = _mm256_permute2f128_ps(h0123, h4567, 0x20);
  const __m256 hi = _mm256_permute2f128_ps(h0123, h4567, 0x31);
  return _mm256_add_ps(lo, hi);
}

static inline float reduce8(__m256 v) {
  float x[8];
  _mm256_storeu_ps(x, v);
  return ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]));
}

static void attend_one(const attend_job *job, const int32_t *e) {
  uint8_t *mem = job->mem;
  float *out = (float *)(mem + e[0]);
  const float *q = (const float *)(mem + e[1]);
  const uint8_t *kb = mem + e[2], *vb = mem + e[3];
  const int32_t *offs = (const int32_t *)(mem + e[4]);
  const int len = e[5], hd = job->head_dim;
  float max = -INFINITY, sum = 0.0f;
  for (int d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_setzero_ps());
  const __m256 scale = _mm256_set1_ps(job->scale);
  for (int j = 0; j < len; j += 8) {
    const int cnt = len - j < 8 ? len - j : 8;
    __m256 acc[8];
    const float *kp[8];
    for (int kk = 0; kk < 8; kk++) kp[kk] = (const float *)(kb + (size_t)offs[j + (kk < cnt ? kk : 0)] * 4);
    for (int kk = 0; kk < 8; kk++) acc[kk] = _mm256_setzero_ps();
    for (int d = 0; d < hd; d += 8) {
      const __m256 qv = _mm256_loadu_ps(q + d);
      for (int kk = 0; kk < 8; kk++) acc[kk] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kp[kk] + d), acc[kk]);
    }
    __m256 s = _mm256_mul_ps(reduce8x8(acc), scale);
    if (cnt < 8) {
      const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
      const __m256 keep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(cnt), lane));
      s = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), s, keep);
    }
    float sv[8];
    _mm256_storeu_ps(sv, s);
    float bm = sv[0];
    for (int kk = 1; kk < 8; kk++) bm = sv[kk] > bm ? sv[kk] : bm;
    if (bm > max) {
      const float r = attend_exp_neg(max - bm);
      sum *= r;
      const __m256 rv = _mm256_set1_ps(r);
      for (int d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_mul_ps(_mm256_loadu_ps(out + d), rv));
      max = bm;
    }
    const __m256 p = exp_neg8(_mm256_sub_ps(s, _mm256_set1_ps(max)));
    sum += reduce8(p);
    float pv[8];
    _mm256_storeu_ps(pv, p);
    for (int d = 0; d < hd; d += 8) {
      __m256 o = _mm256_loadu_ps(out + d);
      for (int kk = 0; kk < cnt; kk++) o = _mm256_fmadd_ps(_mm256_set1_ps(pv[kk]), _mm256_loadu_ps((const float *)(vb + (size_t)offs[j + kk] * 4) + d), o);
      _mm256_storeu_ps(out + d, o);
    }
  }
  const __m256 inv = _mm256_set1_ps(1.0f / sum);
  for (int d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_mul_ps(_mm256_loadu_ps(out + d), inv));
}

void attend_items_avx2(attend_job *job, int i0, int i1) {
  for (int i = i0; i < i1; i++) {
    const int32_t *e = job->table + (size_t)i * 6;
    if (!attend_item_ok(job, e)) { job->error = 1; continue; }
    attend_one(job, e);
  }
}
