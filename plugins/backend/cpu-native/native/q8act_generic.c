/* The q8-activation contract in portable C: activation rows quantized to Q8_0, and Q8_0 / Q4_0
 * weights (read in place) times those rows with exact int32 block sums and the pinned f32
 * accumulation acc = acc + (float)isum * (dx * dw). Compiled with -ffp-contract=off (no fused
 * multiply-add), so every CPU and q8act_avx2.c compute identical bits. */
#include <math.h>
#include <string.h>
#include "matmul.h"
#include "q8act.h"

uint16_t f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000, exp = (x >> 23) & 0xff, mant = x & 0x7fffff;
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 | (mant >> 13) : 0));
  const int e = (int)exp - 127 + 15;
  if (e >= 31) return (uint16_t)(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10) return (uint16_t)sign; /* below half the smallest subnormal */
    const uint32_t m = mant | 0x800000, shift = (uint32_t)(14 - e), rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    uint32_t h = m >> shift;
    if (rem > half || (rem == half && (h & 1))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = ((uint32_t)e << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* a carry into the exponent is right (up to inf) */
  return (uint16_t)(sign | h);
}

/* roundf for |v| < 2^31 (here |v| <= 127 and a bit): truncate, then step away from zero when the
 * dropped part (exact in f32) is at least one half. A value that is not finite (x * id with
 * id = inf, when amax < ~3.7e-37 and the stored scale is 0 anyway, or a NaN x) gives 0. */
static inline int8_t round_q(float v) {
  if (!(fabsf(v) < INFINITY)) return 0;
  int t = (int)v;
  const float fr = v - (float)t;
  t += (fr >= 0.5f) - (fr <= -0.5f);
  return (int8_t)t;
}

void quantize_rows_q8_0_generic(void *dst, const float *x, int k, int i0, int i1) {
  const int nb = k / 32;
  for (int i = i0; i < i1; i++) {
    float *d = (float *)q8_row_scales(dst, k, i);
    int32_t *sum = (int32_t *)q8_row_sums(dst, k, i);
    int8_t *q = (int8_t *)q8_row_values(dst, k, i);
    const float *xr = x + (size_t)i * k;
    for (int b = 0; b < nb; b++) {
      float amax = 0.0f;
      for (int t = 0; t < 32; t++) {
        const float v = fabsf(xr[b * 32 + t]);
        amax = amax > v ? amax : v;
      }
      const float dd = amax / 127.0f, id = dd != 0.0f ? 1.0f / dd : 0.0f;
      int32_t total = 0;
      for (int t = 0; t < 32; t++) {
        q[b * 32 + t] = round_q(xr[b * 32 + t] * id);
        total += q[b * 32 + t];
      }
      sum[b] = total;
      d[b] = f16_to_f32(f32_to_f16(dd));
    }
  }
}

static void q8act_generic(float *out, const void *x, const void *wv, int n, int k, int m, int j0, int j1, int q4) {
  const int nb = k / 32, bs = q4 ? 18 : 34;
  const uint8_t *w = (const uint8_t *)wv;
  for (int j = j0; j < j1; j++) {
    const uint8_t *wr = w + (size_t)j * nb * bs;
    for (int i = 0; i < n; i++) {
      const float *xd = q8_row_scales(x, k, i);
      const int8_t *xq = q8_row_values(x, k, i);
      float acc = 0.0f;
      for (int b = 0; b < nb; b++) {
        const uint8_t *blk = wr + (size_t)b * bs;
        const int8_t *qb = xq + b * 32;
        int32_t isum = 0;
        if (q4) {
          for (int t = 0; t < 16; t++) isum += qb[t] * ((blk[2 + t] & 15) - 8) + qb[t + 16] * ((blk[2 + t] >> 4) - 8);
        } else {
          for (int t = 0; t < 32; t++) isum += qb[t] * (int8_t)blk[2 + t];
        }
        const float s = xd[b] * f16_to_f32((uint16_t)(blk[0] | (blk[1] << 8)));
        acc = acc + (float)isum * s;
      }
      out[(size_t)i * m + j] = acc;
    }
  }
}

void q8_0_q8act_generic(float *out, const void *x, const void *w, int n, int k, int m, int j0, int j1) {
  q8act_generic(out, x, w, n, k, m, j0, j1, 0);
}

void q4_0_q8act_generic(float *out, const void *x, const void *w, int n, int k, int m, int j0, int j1) {
  q8act_generic(out, x, w, n, k, m, j0, j1, 1);
}
