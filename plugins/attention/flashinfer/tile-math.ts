/**
 * The two matrix products of a FlashAttention block on the CPU, shared by flashinfer and flex:
 * S = Q·K^T over n query lanes × count keys, and acc += P·V. Register-blocked 4 lanes × 4 keys, so
 * each loaded element feeds four multiply-adds (about 1.5x over one key at a time on V8).
 * Lane i's query vector starts at q[qOff[i]]; key/value j's row at kvOff + j * stride; row-major
 * sc[i * count + j]; acc[i * D + d]. f64 accumulation.
 */

/** sc[i, j] = q_i · k_j. */
export function qkBlock(sc: Float64Array, q: Float32Array, qOff: Int32Array, n: number, k: Float32Array, kvOff: number, stride: number, count: number, D: number): void {
  let l = 0;
  for (; l + 4 <= n; l += 4) {
    const a0 = qOff[l]!, a1 = qOff[l + 1]!, a2 = qOff[l + 2]!, a3 = qOff[l + 3]!;
    const b0 = l * count, b1 = b0 + count, b2 = b1 + count, b3 = b2 + count;
    let j = 0;
    for (; j + 4 <= count; j += 4) {
      const k0 = kvOff + j * stride, k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let d = 0; d < D; d++) {
        const x0 = k[k0 + d]!, x1 = k[k1 + d]!, x2 = k[k2 + d]!, x3 = k[k3 + d]!;
        let y = q[a0 + d]!; s00 += y * x0; s01 += y * x1; s02 += y * x2; s03 += y * x3;
        y = q[a1 + d]!; s10 += y * x0; s11 += y * x1; s12 += y * x2; s13 += y * x3;
        y = q[a2 + d]!; s20 += y * x0; s21 += y * x1; s22 += y * x2; s23 += y * x3;
        y = q[a3 + d]!; s30 += y * x0; s31 += y * x1; s32 += y * x2; s33 += y * x3;
      }
      sc[b0 + j] = s00; sc[b0 + j + 1] = s01; sc[b0 + j + 2] = s02; sc[b0 + j + 3] = s03;
      sc[b1 + j] = s10; sc[b1 + j + 1] = s11; sc[b1 + j + 2] = s12; sc[b1 + j + 3] = s13;
      sc[b2 + j] = s20; sc[b2 + j + 1] = s21; sc[b2 + j + 2] = s22; sc[b2 + j + 3] = s23;
      sc[b3 + j] = s30; sc[b3 + j + 1] = s31; sc[b3 + j + 2] = s32; sc[b3 + j + 3] = s33;
    }
    for (; j < count; j++) {
      const ko = kvOff + j * stride;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let d = 0; d < D; d++) {
        const kd = k[ko + d]!;
        s0 += q[a0 + d]! * kd; s1 += q[a1 + d]! * kd; s2 += q[a2 + d]! * kd; s3 += q[a3 + d]! * kd;
      }
      sc[b0 + j] = s0; sc[b1 + j] = s1; sc[b2 + j] = s2; sc[b3 + j] = s3;
    }
  }
  for (; l < n; l++) {
    const a = qOff[l]!, base = l * count;
    let j = 0;
    for (; j + 4 <= count; j += 4) {
      const k0 = kvOff + j * stride, k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let d = 0; d < D; d++) {
        const qd = q[a + d]!;
        s0 += qd * k[k0 + d]!; s1 += qd * k[k1 + d]!; s2 += qd * k[k2 + d]!; s3 += qd * k[k3 + d]!;
      }
      sc[base + j] = s0; sc[base + j + 1] = s1; sc[base + j + 2] = s2; sc[base + j + 3] = s3;
    }
    for (; j < count; j++) {
      const ko = kvOff + j * stride;
      let s = 0;
      for (let d = 0; d < D; d++) s += q[a + d]! * k[ko + d]!;
      sc[base + j] = s;
    }
  }
}

/** acc[i, :] += Σ_j sc[i, j] · v_j. */
export function pvBlock(acc: Float64Array, sc: Float64Array, n: number, v: Float32Array, kvOff: number, stride: number, count: number, D: number): void {
  let l = 0;
  for (; l + 4 <= n; l += 4) {
    const o0 = l * D, o1 = o0 + D, o2 = o1 + D, o3 = o2 + D;
    const b0 = l * count, b1 = b0 + count, b2 = b1 + count, b3 = b2 + count;
    let j = 0;
    for (; j + 4 <= count; j += 4) {
      const p00 = sc[b0 + j]!, p01 = sc[b0 + j + 1]!, p02 = sc[b0 + j + 2]!, p03 = sc[b0 + j + 3]!;
      const p10 = sc[b1 + j]!, p11 = sc[b1 + j + 1]!, p12 = sc[b1 + j + 2]!, p13 = sc[b1 + j + 3]!;
      const p20 = sc[b2 + j]!, p21 = sc[b2 + j + 1]!, p22 = sc[b2 + j + 2]!, p23 = sc[b2 + j + 3]!;
      const p30 = sc[b3 + j]!, p31 = sc[b3 + j + 1]!, p32 = sc[b3 + j + 2]!, p33 = sc[b3 + j + 3]!;
      const v0 = kvOff + j * stride, v1 = v0 + stride, v2 = v1 + stride, v3 = v2 + stride;
      for (let d = 0; d < D; d++) {
        const x0 = v[v0 + d]!, x1 = v[v1 + d]!, x2 = v[v2 + d]!, x3 = v[v3 + d]!;
        acc[o0 + d] = acc[o0 + d]! + p00 * x0 + p01 * x1 + p02 * x2 + p03 * x3;
        acc[o1 + d] = acc[o1 + d]! + p10 * x0 + p11 * x1 + p12 * x2 + p13 * x3;
        acc[o2 + d] = acc[o2 + d]! + p20 * x0 + p21 * x1 + p22 * x2 + p23 * x3;
        acc[o3 + d] = acc[o3 + d]! + p30 * x0 + p31 * x1 + p32 * x2 + p33 * x3;
      }
    }
    for (; j < count; j++) {
      const p0 = sc[b0 + j]!, p1 = sc[b1 + j]!, p2 = sc[b2 + j]!, p3 = sc[b3 + j]!;
      const vo = kvOff + j * stride;
      for (let d = 0; d < D; d++) {
        const x = v[vo + d]!;
        acc[o0 + d] = acc[o0 + d]! + p0 * x; acc[o1 + d] = acc[o1 + d]! + p1 * x;
        acc[o2 + d] = acc[o2 + d]! + p2 * x; acc[o3 + d] = acc[o3 + d]! + p3 * x;
      }
    }
  }
  for (; l < n; l++) {
    const ao = l * D, base = l * count;
    let j = 0;
    for (; j + 4 <= count; j += 4) {
      const p0 = sc[base + j]!, p1 = sc[base + j + 1]!, p2 = sc[base + j + 2]!, p3 = sc[base + j + 3]!;
      if (p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0) continue;
      const v0 = kvOff + j * stride, v1 = v0 + stride, v2 = v1 + stride, v3 = v2 + stride;
      for (let d = 0; d < D; d++) acc[ao + d] = acc[ao + d]! + p0 * v[v0 + d]! + p1 * v[v1 + d]! + p2 * v[v2 + d]! + p3 * v[v3 + d]!;
    }
    for (; j < count; j++) {
      const pj = sc[base + j]!;
      if (pj === 0) continue;
      const vo = kvOff + j * stride;
      for (let d = 0; d < D; d++) acc[ao + d] = acc[ao + d]! + pj * v[vo + d]!;
    }
  }
}
