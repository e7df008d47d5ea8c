/* Portable kernels: the same operations in the same order as the SIMD ones (8 lanes of fused
 * multiply-adds, pairwise reduction, fused tail), so every CPU computes identical bits. */
#include <math.h>
#include <stdlib.h>
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

float *tile_scratch(size_t floats) {
  static __thread float *buf = NULL;
  static __thread size_t cap = 0;
  if (floats > cap) {
    float *grown = realloc(buf, floats * sizeof(float));
    if (!grown) abort(); /* out of memory for a few KiB: nothing sensible is left to do */
    buf = grown;
    cap = floats;
  }
  return buf;
}

/* Q8_0 (34-byte blocks: f16 d, 32 int8) and Q4_0 (18-byte blocks: f16 d, 16 bytes of nibbles, low
 * nibbles weights 0..15, high 16..31, w = d * (q - 8)): four rows at a time dequantized to f32
 * (w = d * q rounded to f32) into a per-thread tile, then the f32 kernel, as matmul_avx2.c does. */
static void deq_rows(float *dst, const uint8_t *w, int k, int j, int cols, int q4) {
  const int nb = k / 32, bs = q4 ? 18 : 34;
  for (int c = 0; c < cols; c++) {
    const uint8_t *wr = w + (size_t)(j + c) * nb * bs;
    float *o = dst + (size_t)c * k;
    for (int b = 0; b < nb; b++) {
      const uint8_t *blk = wr + (size_t)b * bs;
      const float d = f16_to_f32((uint16_t)(blk[0] | (blk[1] << 8)));
      for (int p = 0; p < 32; p++) {
        float q = q4 ? (float)(p < 16 ? (blk[2 + p] & 15) - 8 : (blk[2 + p - 16] >> 4) - 8) : (float)((const int8_t *)(blk + 2))[p];
        o[b * 32 + p] = d * q;
      }
    }
  }
}

static void f32_generic(float *out, const float *x, const void *wv, int n, int k, int m, int j0, int j1);

static void block_generic(float *out, const float *x, const void *wv, int n, int k, int m, int j0, int j1, int q4) {
  float *tile = tile_scratch((size_t)4 * k);
  for (int j = j0; j < j1; j += 4) {
    const int cols = j1 - j < 4 ? j1 - j : 4;
    deq_rows(tile, (const uint8_t *)wv, k, j, cols, q4);
    f32_generic(out + j, x, tile, n, k, m, 0, cols);
  }
}

static void q8_0_generic(float *out, const float *x, const void *wv, int n, int k, int m, int j0, int j1) {
  block_generic(out, x, wv, n, k, m, j0, j1, 0);
}

static void q4_0_generic(float *out, const float *x, const void *wv, int n, int k, int m, int j0, int j1) {
  block_generic(out, x, wv, n, k, m, j0, j1, 1);
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
