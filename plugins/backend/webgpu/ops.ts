import type { BackendOps, DeviceTensor } from "../../../src/plugin/types.ts";
import type { WebGpuBackend } from "./backend.ts";
import { EW, groups } from "./kernels/common.wgsl.ts";
import { ADD_BIAS, ADD_IN_PLACE, GATHER_ROWS, GELU_MUL, SCALE, SILU_MUL, SOFT_CAP } from "./kernels/elementwise.wgsl.ts";
import { F32_WEIGHTS, MATVEC_CHUNKED_MAX_ROWS, MATVEC_MAX_ROWS, matvecKernel, matvecWorkgroups, tiledMatmulKernel, tiledWorkgroups, type WeightFormat } from "./kernels/matmul.wgsl.ts";
import { RMS_NORM } from "./kernels/norm.wgsl.ts";
import { ROPE } from "./kernels/rope.wgsl.ts";
import { ARGMAX_ROWS } from "./kernels/sampling.wgsl.ts";
import { gpuTensor } from "./tensor.ts";

function lastDim(t: DeviceTensor): number {
  return t.shape[t.shape.length - 1]!;
}

/**
 * Records y[n, m] = x[n, k] · W[m, k]^T with W stored in `fmt` (weights: its storage buffers):
 * matrix-vector dispatches of 8 rows for n <= 32 (decode, small batches), the tiled kernel above. nb = blocks (or
 * groups) per row for block formats.
 */
export function enqueueLinear(
  b: WebGpuBackend, fmt: WeightFormat, out: DeviceTensor, x: DeviceTensor, weights: readonly DeviceTensor[],
  n: number, k: number, m: number, nb: number,
): void {
  if (n === 0) return;
  if (weights.length !== fmt.buffers) throw new Error(`${fmt.name} linear takes ${fmt.buffers} weight buffers, got ${weights.length}`);
  if (n * k * 4 > gpuTensor(x).byteLength) throw new RangeError(`linear: input holds fewer than ${n} rows of ${k}`);
  if (n * m * 4 > gpuTensor(out).byteLength) throw new RangeError(`linear: output holds fewer than ${n} rows of ${m}`);
  const aligned = k % 4 === 0;
  const bindings = [{ tensor: gpuTensor(out), write: true }, { tensor: gpuTensor(x) }, ...weights.map((w) => ({ tensor: gpuTensor(w) }))];
  if (n > MATVEC_CHUNKED_MAX_ROWS) {
    const kernel = b.kernel(`matmul_${fmt.name}_${aligned}`, () => tiledMatmulKernel(fmt, aligned));
    b.dispatch(kernel, [n, k, m, nb, 0], bindings, tiledWorkgroups(n, m));
    return;
  }
  // Small batches: matrix-vector dispatches of up to 8 rows each (no tile padding).
  for (let row0 = 0; row0 < n; row0 += MATVEC_MAX_ROWS) {
    const rows = Math.min(MATVEC_MAX_ROWS, n - row0);
    const kernel = b.kernel(`matvec_${fmt.name}_${aligned}_${rows}`, () => matvecKernel(fmt, aligned, rows));
    b.dispatch(kernel, [n, k, m, nb, row0], bindings, matvecWorkgroups(m));
  }
}

/** The BackendOps of the webgpu backend: each call records one (or two) dispatches. */
export function makeOps(b: WebGpuBackend): BackendOps {
  return {
    rmsNorm(out, x, weight, eps, numTokens) {
      const dim = weight.shape[0]!;
      b.dispatch(RMS_NORM, [numTokens, dim, eps], [{ tensor: gpuTensor(out), write: true }, { tensor: gpuTensor(x) }, { tensor: gpuTensor(weight) }], numTokens);
    },
    rope(x, positions, tables, numHeads, headDim, numTokens) {
      const half = tables.rotDim >> 1;
      const pairs = numTokens * numHeads * half;
      b.dispatch(
        ROPE, [pairs, numHeads, headDim, half, tables.layout === "neox" ? 1 : 0],
        [{ tensor: gpuTensor(x), write: true }, { tensor: gpuTensor(positions) }, { tensor: gpuTensor(tables.cos) }, { tensor: gpuTensor(tables.sin) }],
        groups(pairs, EW),
      );
    },
    siluMul(out, gate, up, numTokens) {
      const n = numTokens * lastDim(out);
      b.dispatch(SILU_MUL, [n], [{ tensor: gpuTensor(out), write: true }, { tensor: gpuTensor(gate) }, { tensor: gpuTensor(up) }], groups(n, EW));
    },
    addInPlace(out, x, numTokens) {
      const n = numTokens * lastDim(out);
      b.dispatch(ADD_IN_PLACE, [n], [{ tensor: gpuTensor(out), write: true }, { tensor: gpuTensor(x) }], groups(n, EW));
    },
    gatherRows(out, x, rows, numRows) {
      const dim = lastDim(x);
      const n = numRows * dim;
      b.dispatch(GATHER_ROWS, [n, dim, x.shape[0]!], [{ tensor: gpuTensor(out), write: true }, { tensor: gpuTensor(x) }, { tensor: gpuTensor(rows) }], groups(n, EW));
    },
    addBias(out, bias, numRows) {
      const dim = bias.shape[0]!;
      b.dispatch(ADD_BIAS, [numRows * dim, dim], [{ tensor: gpuTensor(out), write: true }, { tensor: gpuTensor(bias) }], groups(numRows * dim, EW));
    },
    scale(x, s, numRows) {
      const n = numRows * lastDim(x);
      b.dispatch(SCALE, [n, s], [{ tensor: gpuTensor(x), write: true }], groups(n, EW));
    },
    geluMul(out, gate, up, numRows) {
      const n = numRows * lastDim(out);
      b.dispatch(GELU_MUL, [n], [{ tensor: gpuTensor(out), write: true }, { tensor: gpuTensor(gate) }, { tensor: gpuTensor(up) }], groups(n, EW));
    },
    softCap(x, cap, numRows) {
      const n = numRows * lastDim(x);
      b.dispatch(SOFT_CAP, [n, cap], [{ tensor: gpuTensor(x), write: true }], groups(n, EW));
    },
    argmaxRows(ids, x, numRows) {
      if (numRows * 4 > gpuTensor(ids).byteLength) throw new RangeError(`argmaxRows: ${numRows} ids into a tensor of ${gpuTensor(ids).byteLength / 4}`);
      b.dispatch(ARGMAX_ROWS, [numRows, lastDim(x)], [{ tensor: gpuTensor(ids), write: true }, { tensor: gpuTensor(x) }], numRows);
    },
    matmul(out, x, w, numRows) {
      enqueueLinear(b, F32_WEIGHTS, out, x, [w], numRows, w.shape[1]!, w.shape[0]!, 1);
    },
  };
}
