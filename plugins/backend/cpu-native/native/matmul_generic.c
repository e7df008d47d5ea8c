/* Portable kernels: the same operations in the same order as the SIMD ones (8 lanes of fused
 * multiply-adds, pairwise reduction, fused tail), so every CPU computes identical bits. */
#include <math.h>
#include <string.h>
#include "matmul.h"

float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  float f;
  if (e == 0) {
    f = (float)mant * 5.9604644775390625e-8f; /* 2^-24 */
    return sign ? -f : f;
  }
  bits = e == 31 ? (sign | 0x7f800000u | (mant << 13)) : (sign | ((e + 112) << 23) | (mant << 13));
  memcpy(&f, &bits, 4);
  return f;
}

static float reduce8(const float a[8]) {
  return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

static void f32_generic(float *out, const float *x, const void *wv, int n, int k, int m, int j0, int j1) {
  const float *w = (const float *)wv;
  int k8 = k & ~7;
  for (int j = j0; j < j1; j++) {
    const float *wr = w + (size_t)j * k;
    for (int i = 0; i < n; i++) {
      const float *xr = x + (size_t)i * k;
      float a[8] = {0};
      for (int p = 0; p < k8; p += 8)
        for (int l = 0; l < 8; l++) a[l] = fmaf(xr[p + l], wr[p + l], a[l]);
      float s = reduce8(a);
      for (int p = k8; p < k; p++) s = fmaf(xr[p], wr[p], s);
      out[(size_t)i * m + j] = s;
    }
  }
}

/* Q8_0: blocks of 34 bytes (f16 d, 32 int8); per block 8 lanes of x*q, scaled by d, added to the row's lanes. */
static void q8_0_generic(float *out, const float *x, const void *wv, int n, int k, int m, int j0, int j1) {
  const uint8_t *w = (const uint8_t *)wv;
  int nb = k / 32;
  for (int j = j0; j < j1; j++) {
    const uint8_t *wr = w + (size_t)j * nb * 34;
    for (int i = 0; i < n; i++) {
      const float *xr = x + (size_t)i * k;
      float a[8] = {0};
      for (int b = 0; b < nb; b++) {
        const uint8_t *blk = wr + (size_t)b * 34;
        float d = f16_to_f32((uint16_t)(blk[0] | (blk[1] << 8)));
        const int8_t *q = (const int8_t *)(blk + 2);
        float s[8] = {0};
        for (int p = 0; p < 32; p += 8)
          for (int l = 0; l < 8; l++) s[l] = fmaf(xr[b * 32 + p + l], (float)q[p + l], s[l]);
        for (int l = 0; l < 8; l++) a[l] = fmaf(s[l], d, a[l]);
      }
      out[(size_t)i * m + j] = reduce8(a);
    }
  }
}

/* Q4_0: blocks of 18 bytes (f16 d, 16 bytes of nibbles: low nibbles are weights 0..15, high 16..31), w = d * (q - 8). */
static void q4_0_generic(float *out, const float *x, const void *wv, int n, int k, int m, int j0, int j1) {
  const uint8_t *w = (const uint8_t *)wv;
  int nb = k / 32;
  for (int j = j0; j < j1; j++) {
    const uint8_t *wr = w + (size_t)j * nb * 18;
    for (int i = 0; i < n; i++) {
      const float *xr = x + (size_t)i * k;
      float a[8] = {0};
      for (int b = 0; b < nb; b++) {
        const uint8_t *blk = wr + (size_t)b * 18;
        float d = f16_to_f32((uint16_t)(blk[0] | (blk[1] << 8)));
        float q[32];
        for (int p = 0; p < 16; p++) { q[p] = (float)((blk[2 + p] & 15) - 8); q[p + 16] = (float)((blk[2 + p] >> 4) - 8); }
        float s[8] = {0};
        for (int p = 0; p < 32; p += 8)
          for (int l = 0; l < 8; l++) s[l] = fmaf(xr[b * 32 + p + l], q[p + l], s[l]);
        for (int l = 0; l < 8; l++) a[l] = fmaf(s[l], d, a[l]);
      }
      out[(size_t)i * m + j] = reduce8(a);
    }
  }
}

static void f16_generic(float *out, const float *x, const void *wv, int n, int k, int m, int j0, int j1) {
  const uint16_t *w = (const uint16_t *)wv;
  int k8 = k & ~7;
  for (int j = j0; j < j1; j++) {
    const uint16_t *wr = w + (size_t)j * k;
    for (int i = 0; i < n; i++) {
      const float *xr = x + (size_t)i * k;
      float a[8] = {0};
      for (int p = 0; p < k8; p += 8)
        for (int l = 0; l < 8; l++) a[l] = fmaf(xr[p + l], f16_to_f32(wr[p + l]), a[l]);
      float s = reduce8(a);
      for (int p = k8; p < k; p++) s = fmaf(xr[p], f16_to_f32(wr[p]), s);
      out[(size_t)i * m + j] = s;
    }
  }
}

const matmul_fn matmul_generic[NUM_KINDS] = { f32_generic, q8_0_generic, q4_0_generic, f16_generic };

void matmul_tiled(matmul_fn fn, float *out, const float *x, const void *w, int n, int k, int m, int j0, int j1) {
  int rows = 49152 / (4 * k);
  rows = rows < 4 ? 4 : rows & ~3;
  for (int i0 = 0; i0 < n; i0 += rows) {
    int r = n - i0 < rows ? n - i0 : rows;
    fn(out + (size_t)i0 * m, x + (size_t)i0 * k, w, r, k, m, j0, j1);
  }
}
