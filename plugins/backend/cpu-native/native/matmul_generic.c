/* Portable kernels: the same operations in the same order as the SIMD ones (8 lanes of fused
 * multiply-adds, pairwise reduction, fused tail), so every CPU computes identical bits. Q8_0 and
 * Q4_0 are in q8act_generic.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "matmul.h"
#include "q8act.h"

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

static void f32_generic(float *out, const void *xv, const void *wv, int n, int k, int m, int j0, int j1) {
  const float *x = (const float *)xv, *w = (const float *)wv;
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

static void f16_generic(float *out, const void *xv, const void *wv, int n, int k, int m, int j0, int j1) {
  const float *x = (const float *)xv;
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

const matmul_fn matmul_generic[NUM_KINDS] = { f32_generic, q8_0_q8act_generic, q4_0_q8act_generic, f16_generic };

void matmul_tiled(const matmul_job *job, int j0, int j1) {
  const int rows = job->block_rows > 0 ? job->block_rows : job->n;
  for (int i0 = 0; i0 < job->n; i0 += rows) {
    const int r = job->n - i0 < rows ? job->n - i0 : rows;
    job->fn(job->out + (size_t)i0 * job->m, (const uint8_t *)job->x + (size_t)i0 * job->x_stride, job->w, r, job->k, job->m, j0, j1);
  }
}
