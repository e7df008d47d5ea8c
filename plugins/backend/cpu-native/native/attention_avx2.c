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

/* One query's online-softmax state. */
typedef struct {
  float *out;
  const float *q;
  int len;
  float max, sum;
} query_state;

static void query_start(query_state *st, uint8_t *mem, const int32_t *e, int hd) {
  st->out = (float *)(mem + e[0]);
  st->q = (const float *)(mem + e[1]);
  st->len = e[5];
  st->max = -INFINITY;
  st->sum = 0.0f;
  for (int d = 0; d < hd; d += 8) _mm256_storeu_ps(st->out + d, _mm256_setzero_ps());
}

/* Keys j..j+7 (those below the query's len) into the query's state. kp/vp: the block's key/value rows. */
static void query_block(query_state *st, int j, const float *const kp[8], const float *const vp[8], int hd, __m256 scale) {
  const int cnt = st->len - j < 8 ? st->len - j : 8;
  if (cnt <= 0) return;
  __m256 acc[8];
  for (int kk = 0; kk < 8; kk++) acc[kk] = _mm256_setzero_ps();
  for (int d = 0; d < hd; d += 8) {
    const __m256 qv = _mm256_loadu_ps(st->q + d);
    for (int kk = 0; kk < 8; kk++) acc[kk] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kp[kk < cnt ? kk : 0] + d), acc[kk]);
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
  float *out = st->out;
  if (bm > st->max) {
    const float r = attend_exp_neg(st->max - bm);
    st->sum *= r;
    const __m256 rv = _mm256_set1_ps(r);
    for (int d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_mul_ps(_mm256_loadu_ps(out + d), rv));
    st->max = bm;
  }
  const __m256 p = exp_neg8(_mm256_sub_ps(s, _mm256_set1_ps(st->max)));
  st->sum += reduce8(p);
  float pv[8];
  _mm256_storeu_ps(pv, p);
  for (int d = 0; d < hd; d += 8) {
    __m256 o = _mm256_loadu_ps(out + d);
    for (int kk = 0; kk < cnt; kk++) o = _mm256_fmadd_ps(_mm256_set1_ps(pv[kk]), _mm256_loadu_ps(vp[kk] + d), o);
    _mm256_storeu_ps(out + d, o);
  }
}

static void query_finish(query_state *st, int hd) {
  const __m256 inv = _mm256_set1_ps(1.0f / st->sum);
  for (int d = 0; d < hd; d += 8) _mm256_storeu_ps(st->out + d, _mm256_mul_ps(_mm256_loadu_ps(st->out + d), inv));
}

/* Up to TILE items reading the same keys (same kBase, vBase, offs: one head's queries of one
 * request, consecutive in the table) go through each key block together, so a block's K/V rows
 * come from memory once and stay in L1 for the others. Each query's arithmetic is exactly what it
 * would be alone (same blocks, same order), so tiling never changes a result. */
#define TILE 4

static void attend_tile(const attend_job *job, const int32_t *const items[], int n) {
  uint8_t *mem = job->mem;
  const int hd = job->head_dim;
  const uint8_t *kb = mem + items[0][2], *vb = mem + items[0][3];
  const int32_t *offs = (const int32_t *)(mem + items[0][4]);
  query_state st[TILE];
  int maxlen = 0;
  for (int i = 0; i < n; i++) {
    query_start(&st[i], mem, items[i], hd);
    if (st[i].len > maxlen) maxlen = st[i].len;
  }
  const __m256 scale = _mm256_set1_ps(job->scale);
  for (int j = 0; j < maxlen; j += 8) {
    const int cnt = maxlen - j < 8 ? maxlen - j : 8;
    const float *kp[8], *vp[8];
    for (int kk = 0; kk < 8; kk++) {
      const size_t off = (size_t)offs[j + (kk < cnt ? kk : 0)] * 4;
      kp[kk] = (const float *)(kb + off);
      vp[kk] = (const float *)(vb + off);
    }
    for (int i = 0; i < n; i++) query_block(&st[i], j, kp, vp, hd, scale);
  }
  for (int i = 0; i < n; i++) query_finish(&st[i], hd);
}

void attend_items_avx2(attend_job *job, int i0, int i1) {
  const int32_t *tile[TILE];
  int n = 0;
  for (int i = i0; i < i1; i++) {
    const int32_t *e = job->table + (size_t)i * 6;
    if (!attend_item_ok(job, e)) { job->error = 1; continue; }
    if (n > 0 && (n == TILE || e[2] != tile[0][2] || e[3] != tile[0][3] || e[4] != tile[0][4])) {
      attend_tile(job, tile, n);
      n = 0;
    }
    tile[n++] = e;
  }
  if (n > 0) attend_tile(job, tile, n);
}
