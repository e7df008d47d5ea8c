/* The q8-activation contract with AVX2 integer dot products (compiled with -mavx2 -mfma -mf16c
 * -ffp-contract=off and only called after a run-time CPU check). Same results as q8act_generic.c,
 * bit for bit: block sums are exact int32 (any order), and the f32 steps are the same multiplies
 * and adds per output, 8 columns side by side. */
#include <immintrin.h>
#include <string.h>
#include "matmul.h"
#include "q8act.h"

/* Quantization: max |x| is order-free (no NaN), the rest is lane-wise as in the portable loop. */
void quantize_rows_q8_0_avx2(void *dst, const float *x, int k, int i0, int i1) {
  const int nb = k / 32;
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 inf = _mm256_set1_ps(__builtin_inff());
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int i = i0; i < i1; i++) {
    float *d = (float *)q8_row_scales(dst, k, i);
    int32_t *sum = (int32_t *)q8_row_sums(dst, k, i);
    int8_t *q = (int8_t *)q8_row_values(dst, k, i);
    const float *xr = x + (size_t)i * k;
    for (int b = 0; b < nb; b++) {
      __m256 v[4];
      for (int s = 0; s < 4; s++) v[s] = _mm256_loadu_ps(xr + b * 32 + s * 8);
      __m256 mx = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], absmask), _mm256_and_ps(v[1], absmask)),
                                _mm256_max_ps(_mm256_and_ps(v[2], absmask), _mm256_and_ps(v[3], absmask)));
      __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
      m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
      const float amax = _mm_cvtss_f32(_mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1)));
      const float dd = amax / 127.0f, id = dd != 0.0f ? 1.0f / dd : 0.0f;
      const __m256 idv = _mm256_set1_ps(id);
      __m256i r[4];
      for (int s = 0; s < 4; s++) {
        const __m256 p = _mm256_mul_ps(v[s], idv);
        const __m256 t = _mm256_round_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC), fr = _mm256_sub_ps(p, t);
        const __m256 up = _mm256_and_ps(_mm256_cmp_ps(fr, half, _CMP_GE_OQ), one);
        const __m256 down = _mm256_and_ps(_mm256_cmp_ps(fr, _mm256_sub_ps(_mm256_setzero_ps(), half), _CMP_LE_OQ), one);
        const __m256 rounded = _mm256_sub_ps(_mm256_add_ps(t, up), down);
        /* Lanes that are not finite give 0, as round_q does. */
        r[s] = _mm256_cvttps_epi32(_mm256_and_ps(rounded, _mm256_cmp_ps(_mm256_and_ps(p, absmask), inf, _CMP_LT_OQ)));
      }
      /* packs interleave 128-bit lanes: int32 groups come out in order 0,2,4,6 | 1,3,5,7 (4 bytes each). */
      const __m256i w16a = _mm256_packs_epi32(r[0], r[1]), w16b = _mm256_packs_epi32(r[2], r[3]);
      const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w16a, w16b), order);
      _mm256_storeu_si256((__m256i *)(q + b * 32), bytes);
      const __m256i r8 = _mm256_add_epi32(_mm256_add_epi32(r[0], r[1]), _mm256_add_epi32(r[2], r[3]));
      __m128i r4 = _mm_add_epi32(_mm256_castsi256_si128(r8), _mm256_extracti128_si256(r8, 1));
      r4 = _mm_add_epi32(r4, _mm_shuffle_epi32(r4, 0x4e));
      sum[b] = _mm_cvtsi128_si32(_mm_add_epi32(r4, _mm_shuffle_epi32(r4, 0xb1)));
      d[b] = f16_to_f32(f32_to_f16(dd));
    }
  }
}

/* Block b of the eight weight rows j..j+cols (cols <= 8, the rest zero), transposed: g[q] holds
 * values 4q..4q+3 of each column (column c in dword c); the columns' f32 scales go to sc. Q8_0:
 * the int8 values. Q4_0: the unsigned nibbles u = value + 8 (0..15). */
static inline void decode_block(__m256i g[8], float sc[8], const uint8_t *w, int nb, int j, int b, int cols, int q4) {
  const int bs = q4 ? 18 : 34;
  const __m128i low4 = _mm_set1_epi8(15);
  __m256i r[8];
  for (int c = 0; c < 8; c++) {
    r[c] = _mm256_setzero_si256();
    sc[c] = 0.0f;
    if (c >= cols) continue;
    const uint8_t *blk = w + ((size_t)(j + c) * nb + b) * bs;
    sc[c] = _cvtsh_ss((unsigned short)(blk[0] | (blk[1] << 8)));
    if (q4) {
      const __m128i raw = _mm_loadu_si128((const __m128i *)(blk + 2));
      r[c] = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), low4), _mm_and_si128(raw, low4));
    } else {
      r[c] = _mm256_loadu_si256((const __m256i *)(blk + 2));
    }
  }
  /* 8x8 transpose of 4-byte groups. */
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  g[0] = _mm256_permute2x128_si256(u0, u4, 0x20); g[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  g[1] = _mm256_permute2x128_si256(u1, u5, 0x20); g[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  g[2] = _mm256_permute2x128_si256(u2, u6, 0x20); g[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  g[3] = _mm256_permute2x128_si256(u3, u7, 0x20); g[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

static inline __m256i broadcast4(const int8_t *xg) {
  int32_t four;
  memcpy(&four, xg, 4);
  return _mm256_set1_epi32(four);
}

/* One x block (32 int8) times a transposed weight block (vals[q], and for Q8_0 their magnitudes
 * mags[q]), as 8 exact int32 block sums, one per column. Q8_0: |w| (unsigned) times x with w's
 * sign (signed) in maddubs, |pair| <= 2*128*127 (no saturation), widened per group. Q4_0: u times
 * x, |pair| <= 2*15*127, so all 8 groups add up in int16 (<= 30480) before one widening, and
 * Σ (u - 8) x = Σ u x - 8 Σ x (xsum). */
static inline __m256i block_sums(const int8_t *xb, int32_t xsum, const __m256i *vals, const __m256i *mags, int q4) {
  const __m256i ones = _mm256_set1_epi16(1);
  if (q4) {
    __m256i p = _mm256_maddubs_epi16(vals[0], broadcast4(xb));
    for (int q = 1; q < 8; q++) p = _mm256_add_epi16(p, _mm256_maddubs_epi16(vals[q], broadcast4(xb + 4 * q)));
    return _mm256_sub_epi32(_mm256_madd_epi16(p, ones), _mm256_set1_epi32(8 * xsum));
  }
  __m256i isum = _mm256_setzero_si256();
  for (int q = 0; q < 8; q++)
    isum = _mm256_add_epi32(isum, _mm256_madd_epi16(_mm256_maddubs_epi16(mags[q], _mm256_sign_epi8(broadcast4(xb + 4 * q), vals[q])), ones));
  return isum;
}

static inline void store_cols(float *o, __m256 acc, int cols) {
  if (cols == 8) {
    _mm256_storeu_ps(o, acc);
  } else {
    float tmp[8];
    _mm256_storeu_ps(tmp, acc);
    memcpy(o, tmp, (size_t)cols * sizeof(float));
  }
}

/* acc + (float)isum * (dx * scales), lane by lane: the contract's f32 steps for 8 columns. */
static inline __m256 accumulate(__m256 acc, __m256i isum, float dx, __m256 scales) {
  return _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(_mm256_set1_ps(dx), scales)));
}

/* Lane c = the sum of the eight int32 lanes of p[c] (exact: integer adds in any order). */
static inline __m256i sum8x8_epi32(const __m256i p[8]) {
  const __m256i h01 = _mm256_hadd_epi32(p[0], p[1]), h23 = _mm256_hadd_epi32(p[2], p[3]);
  const __m256i h45 = _mm256_hadd_epi32(p[4], p[5]), h67 = _mm256_hadd_epi32(p[6], p[7]);
  const __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20), _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

/* One x row (decode): each of 8 weight rows' blocks is multiplied where it is loaded (no tile),
 * its 8 partial int32 sums reduced with the other rows' by one transpose, then the same f32 steps. */
static void q8act_row_avx2(float *out, const void *x, const void *wv, int k, int j0, int j1, int q4) {
  const int nb = k / 32, bs = q4 ? 18 : 34;
  const float *xd = q8_row_scales(x, k, 0);
  const int32_t *xs = q8_row_sums(x, k, 0);
  const int8_t *xq = q8_row_values(x, k, 0);
  const __m256i ones = _mm256_set1_epi16(1);
  const __m128i low4 = _mm_set1_epi8(15);
  const uint8_t *w = (const uint8_t *)wv;
  for (int j = j0; j < j1; j += 8) {
    const int cols = j1 - j < 8 ? j1 - j : 8;
    const uint8_t *row[8];
    for (int c = 0; c < 8; c++) row[c] = w + (size_t)(j + (c < cols ? c : 0)) * nb * bs;
    /* The next 8 rows (one contiguous range) are prefetched a slice per block, so the requests
     * spread over this group's work instead of bursting. */
    const char *next = (const char *)w + (size_t)(j + 8) * nb * bs;
    const size_t next_lines = j + 8 < j1 ? ((size_t)(j1 - (j + 8) < 8 ? j1 - (j + 8) : 8) * nb * bs + 63) / 64 : 0;
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
      for (size_t l = next_lines * b / nb; l < next_lines * (b + 1) / nb; l++) _mm_prefetch(next + l * 64, _MM_HINT_T0);
      const __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + b * 32));
      __m256i p[8];
      float sc[8];
      for (int c = 0; c < 8; c++) {
        const uint8_t *blk = row[c] + (size_t)b * bs;
        sc[c] = c < cols ? _cvtsh_ss((unsigned short)(blk[0] | (blk[1] << 8))) : 0.0f;
        if (q4) {
          const __m128i raw = _mm_loadu_si128((const __m128i *)(blk + 2));
          const __m256i u = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), low4), _mm_and_si128(raw, low4));
          p[c] = _mm256_madd_epi16(_mm256_maddubs_epi16(u, xv), ones);
        } else {
          const __m256i wq = _mm256_loadu_si256((const __m256i *)(blk + 2));
          p[c] = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(wq), _mm256_sign_epi8(xv, wq)), ones);
        }
      }
      __m256i isum = sum8x8_epi32(p);
      if (q4) isum = _mm256_sub_epi32(isum, _mm256_set1_epi32(8 * xs[b]));
      acc = accumulate(acc, isum, xd[b], _mm256_loadu_ps(sc));
    }
    store_cols(out + j, acc, cols);
  }
}

/* Each group of 8 weight rows is decoded into the thread's tile once (per block: 8 transposed
 * value vectors, 8 magnitude vectors for Q8_0, 8 scales) and every x row streams past it. (Even
 * for one row this beats decoding in registers: 16 vector registers do not hold a block's
 * values, magnitudes and the decoding temporaries at once.) */
static void q8act_avx2(float *out, const void *x, const void *wv, int n, int k, int m, int j0, int j1, int q4) {
  if (n == 1) {
    q8act_row_avx2(out, x, wv, k, j0, j1, q4);
    return;
  }
  const int nb = k / 32;
  /* per block: 16 vectors and 8 scales = 520 floats' worth */
  float *tile = tile_scratch((size_t)nb * 136);
  __m256i *vecs = (__m256i *)tile; /* tile_scratch is 16-aligned; only unaligned loads/stores touch it */
  const size_t row_bytes = (size_t)nb * (q4 ? 18 : 34);
  for (int j = j0; j < j1; j += 8) {
    const int cols = j1 - j < 8 ? j1 - j : 8;
    /* The tile reads its 8 rows block by block, interleaved, which the hardware prefetchers follow
     * poorly (decode streams the weights from memory): the next tile's rows, one contiguous range,
     * are requested now. */
    if (j + 8 < j1) {
      const char *next = (const char *)wv + (size_t)(j + 8) * row_bytes;
      const size_t bytes = (size_t)(j1 - (j + 8) < 8 ? j1 - (j + 8) : 8) * row_bytes;
      for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(next + off, _MM_HINT_T0);
    }
    for (int b = 0; b < nb; b++) {
      __m256i g[8];
      decode_block(g, tile + (size_t)nb * 128 + b * 8, (const uint8_t *)wv, nb, j, b, cols, q4);
      for (int q = 0; q < 8; q++) {
        _mm256_storeu_si256(vecs + b * 16 + q, g[q]);
        if (!q4) _mm256_storeu_si256(vecs + b * 16 + 8 + q, _mm256_abs_epi8(g[q]));
      }
    }
    for (int i = 0; i < n; i++) {
      const float *xd = q8_row_scales(x, k, i);
      const int32_t *xs = q8_row_sums(x, k, i);
      const int8_t *xq = q8_row_values(x, k, i);
      __m256 acc = _mm256_setzero_ps();
      for (int b = 0; b < nb; b++) {
        __m256i v[8], a[8];
        for (int q = 0; q < 8; q++) {
          v[q] = _mm256_loadu_si256(vecs + b * 16 + q);
          if (!q4) a[q] = _mm256_loadu_si256(vecs + b * 16 + 8 + q);
        }
        acc = accumulate(acc, block_sums(xq + b * 32, xs[b], v, a, q4), xd[b], _mm256_loadu_ps(tile + (size_t)nb * 128 + b * 8));
      }
      store_cols(out + (size_t)i * m + j, acc, cols);
    }
  }
}

void q8_0_q8act_avx2(float *out, const void *x, const void *w, int n, int k, int m, int j0, int j1) {
  q8act_avx2(out, x, w, n, k, m, j0, j1, 0);
}

void q4_0_q8act_avx2(float *out, const void *x, const void *w, int n, int k, int m, int j0, int j1) {
  q8act_avx2(out, x, w, n, k, m, j0, j1, 1);
}
