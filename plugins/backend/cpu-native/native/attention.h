/* Paged attention for the cpu-native backend: the item table of the cpu backend's WebAssembly
 * attendItems (plugins/backend/cpu/wasm/ops.ts), read from the same wasm memory. An item is one
 * query head: six i32 words (byte offsets into the memory): out, q, kBase, vBase, offs, len, where
 * offs holds `len` i32 key offsets in floats (relative to kBase / vBase).
 * Online softmax over blocks of 8 keys; every value below is computed in the same order in the
 * AVX2 and the portable C path (fmaf where AVX2 has an FMA), so both give the same bits:
 *   score_j = reduce8(fma-accumulated q·k lanes) * scale, reduce8(x) = ((x0+x1)+(x2+x3)) + ((x4+x5)+(x6+x7));
 *   a block whose max exceeds the running max rescales sum and acc by exp(max - new max) first;
 *   p_j = exp(score_j - max); sum += reduce8(p); acc[d] = fma(p_j, v_j[d], acc[d]) for j in order;
 *   out = acc * (1 / sum).
 * head_dim must be a multiple of 8. Returns 0, or -1 when an address falls outside [0, mem_bytes). */
#ifndef LLM_CPU_NATIVE_ATTENTION_H
#define LLM_CPU_NATIVE_ATTENTION_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t *mem;
  size_t mem_bytes;
  const int32_t *table;
  int head_dim;
  float scale;
  volatile int error;
} attend_job;

void attend_items_generic(attend_job *job, int i0, int i1);
void attend_items_avx2(attend_job *job, int i0, int i1);

/* e^x for x <= 0 (0 below -87), from 2^(x log2 e): the integer part into the exponent, a degree-6
 * polynomial in the fraction evaluated with fused multiply-adds. Shared by both paths. */
float attend_exp_neg(float x);

/* Whether an item's addresses lie inside the memory (checked before it is computed). */
int attend_item_ok(const attend_job *job, const int32_t *e);
#endif
