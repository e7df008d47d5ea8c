/* The portable attention kernel (see attention.h): the AVX2 path's arithmetic lane by lane. */
#include <math.h>
#include <string.h>
#include "attention.h"

static const float EXP_C[7] = {2.1877504756454154e-4f, 1.238782147949024e-3f, 9.684580452660593e-3f, 5.548042632544682e-2f,
                               2.402305020450907e-1f, 6.93146928693023e-1f, 1.000000002586889f};

float attend_exp_neg(float x) {
  if (!(x >= -87.0f)) return 0.0f;
  float t = x * 1.44269504088896341f;
  float n = floorf(t);
  float f = t - n;
  float p = EXP_C[0];
  for (int i = 1; i < 7; i++) p = fmaf(p, f, EXP_C[i]);
  int32_t bits = ((int32_t)n + 127) << 23;
  float two;
  memcpy(&two, &bits, 4);
  return p * two;
}

int attend_item_ok(const attend_job *job, const int32_t *e) {
  const int64_t hd = job->head_dim, mem = (int64_t)job->mem_bytes;
  const int64_t out = e[0], q = e[1], kb = e[2], vb = e[3], offs = e[4], len = e[5];
  if (len < 0 || out < 0 || q < 0 || kb < 0 || vb < 0 || offs < 0) return 0;
  if (out + hd * 4 > mem || q + hd * 4 > mem || offs + len * 4 > mem) return 0;
  const int32_t *o = (const int32_t *)(job->mem + offs);
  for (int64_t j = 0; j < len; j++) {
    const int64_t off = (int64_t)o[j] * 4;
    if (off < 0 || kb + off + hd * 4 > mem || vb + off + hd * 4 > mem) return 0;
  }
  return 1;
}

static float reduce8(const float *x) {
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
  for (int d = 0; d < hd; d++) out[d] = 0.0f;
  for (int j = 0; j < len; j += 8) {
    const int cnt = len - j < 8 ? len - j : 8;
    float s[8], p[8];
    for (int kk = 0; kk < 8; kk++) {
      if (kk >= cnt) { s[kk] = -INFINITY; continue; }
      const float *k = (const float *)(kb + (size_t)offs[j + kk] * 4);
      float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int d = 0; d < hd; d += 8)
        for (int l = 0; l < 8; l++) lane[l] = fmaf(q[d + l], k[d + l], lane[l]);
      s[kk] = reduce8(lane) * job->scale;
    }
    float bm = s[0];
    for (int kk = 1; kk < 8; kk++) bm = s[kk] > bm ? s[kk] : bm;
    if (bm > max) {
      const float r = attend_exp_neg(max - bm);
      sum *= r;
      for (int d = 0; d < hd; d++) out[d] *= r;
      max = bm;
    }
    for (int kk = 0; kk < 8; kk++) p[kk] = attend_exp_neg(s[kk] - max);
    sum += reduce8(p);
    for (int kk = 0; kk < cnt; kk++) {
      const float *v = (const float *)(vb + (size_t)offs[j + kk] * 4);
      for (int d = 0; d < hd; d++) out[d] = fmaf(p[kk], v[d], out[d]);
    }
  }
  const float inv = 1.0f / sum;
  for (int d = 0; d < hd; d++) out[d] *= inv;
}

void attend_items_generic(attend_job *job, int i0, int i1) {
  for (int i = i0; i < i1; i++) {
    const int32_t *e = job->table + (size_t)i * 6;
    if (!attend_item_ok(job, e)) { job->error = 1; continue; }
    attend_one(job, e);
  }
}
