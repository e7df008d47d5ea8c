/* Activations quantized to Q8_0 for the Q8_0/Q4_0 products (the q8-activation contract, as
 * llama.cpp's quantize_row_q8_0_ref): per block of 32, amax = max |x|, d = amax / 127 (f32),
 * id = d ? 1 / d : 0, q = roundf(x * id) (halves away from zero), and the scale kept is d rounded
 * to f16 and back. A quantized row of k values (k % 32 == 0) is Q8_ROW_BYTES(k) bytes: the k/32
 * f32 scales, the k/32 int32 sums of each block's values (for Q4_0's unsigned-nibble products),
 * then the k int8 values. */
#ifndef LLM_CPU_NATIVE_Q8ACT_H
#define LLM_CPU_NATIVE_Q8ACT_H
#include <stdint.h>

#define Q8_ROW_BYTES(k) ((size_t)(k) / 32 * 40)

static inline const float *q8_row_scales(const void *x, int k, int i) {
  return (const float *)((const uint8_t *)x + (size_t)i * Q8_ROW_BYTES(k));
}
static inline const int32_t *q8_row_sums(const void *x, int k, int i) {
  return (const int32_t *)((const uint8_t *)x + (size_t)i * Q8_ROW_BYTES(k) + (size_t)k / 32 * 4);
}
static inline const int8_t *q8_row_values(const void *x, int k, int i) {
  return (const int8_t *)((const uint8_t *)x + (size_t)i * Q8_ROW_BYTES(k) + (size_t)k / 32 * 8);
}

/* f32 to IEEE half bits, round to nearest even (overflow to inf), as GGML_FP32_TO_FP16. */
uint16_t f32_to_f16(float f);
/* Rows i0..i1 of x[n, k] quantized into dst (Q8_ROW_BYTES(k) per row). Portable and AVX2 versions give identical bytes. */
void quantize_rows_q8_0_generic(void *dst, const float *x, int k, int i0, int i1);
void quantize_rows_q8_0_avx2(void *dst, const float *x, int k, int i0, int i1);
/* The Q8_0 and Q4_0 kernels over quantized rows (matmul_fn with x in the layout above). */
void q8_0_q8act_generic(float *out, const void *x, const void *w, int n, int k, int m, int j0, int j1);
void q4_0_q8act_generic(float *out, const void *x, const void *w, int n, int k, int m, int j0, int j1);
void q8_0_q8act_avx2(float *out, const void *x, const void *w, int n, int k, int m, int j0, int j1);
void q4_0_q8act_avx2(float *out, const void *x, const void *w, int n, int k, int m, int j0, int j1);
#endif
