import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { createWasmKernels, relaxedSimdAvailable, wasmSimdAvailable } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { cpuBackendPlugin } from "../../../plugins/backend/cpu/index.ts";
import { Prng } from "../../../src/sampling/prng.ts";
import { toF16 } from "../../helpers/f16.ts";
import { matmulQ8Act } from "./q8-activation-reference.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const rand = (r: Prng, n: number) => Float32Array.from({ length: n }, () => r.nextFloat() * 2 - 1);
// The last two have k·m >= 65536: a single row then streams one weight row at a time (same bits).
const SHAPES = [[1, 1, 1], [1, 3, 2], [3, 7, 5], [4, 16, 4], [5, 33, 9], [9, 64, 13], [7, 130, 6], [32, 96, 31], [33, 67, 17], [3, 1027, 67], [2, 256, 257]] as const;


/** Q8_0 blocks for m rows of k values (scales in [0.001, 0.051], codes in [-127, 127]). */
function q8(r: Prng, m: number, k: number): Uint8Array {
  const nb = k / 32, bytes = new Uint8Array(m * nb * 34);
  for (let j = 0; j < m; j++) {
    for (let b = 0; b < nb; b++) {
      const at = (j * nb + b) * 34, h = toF16(0.001 + r.nextFloat() * 0.05);
      bytes[at] = h & 0xff; bytes[at + 1] = h >>> 8;
      for (let p = 0; p < 32; p++) bytes[at + 2 + p] = (Math.floor(r.nextFloat() * 255) - 127) & 0xff;
    }
  }
  return bytes;
}

function checkAgainstF64(out: Float32Array, x: Float32Array, w: ArrayLike<number>, n: number, k: number, m: number, tag: string): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0, abs = 0;
      for (let p = 0; p < k; p++) { s += x[i * k + p]! * w[j * k + p]!; abs += Math.abs(x[i * k + p]! * w[j * k + p]!); }
      // f32 accumulation: error bounded by about k ulp of the absolute sum.
      expect(Math.abs(out[i * m + j]! - s), `${tag} ${n}x${k}x${m} [${i},${j}]`).toBeLessThanOrEqual(abs * k * 2 ** -23 + 1e-30);
    }
  }
}

/** Stable digest of the bits, to compare runs across runtimes. */
const digest = (a: Float32Array) => createHash("sha256").update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest("hex").slice(0, 16);

describe.skipIf(!wasmSimdAvailable())("wasm SIMD128 kernels", () => {
  it("f32 matmul against an f64 reference on odd shapes; batched bits equal single-row bits", () => {
    const r = new Prng(11), K = createWasmKernels()!;
    for (const [n, k, m] of SHAPES) {
      const x = rand(r, n * k), w = K.placeF32(rand(r, m * k))!, out = new Float32Array(n * m);
      K.matmulF32(out, x, w, n, k, m);
      checkAgainstF64(out, x, w, n, k, m, "f32");
      for (let i = 0; i < n; i++) {
        const one = new Float32Array(m);
        K.matmulF32(one, x.subarray(i * k, (i + 1) * k), w, 1, k, m);
        expect(Array.from(one), `row ${i} alone`).toEqual(Array.from(out.subarray(i * m, (i + 1) * m)));
      }
      // A different batch around the same row (row 0 placed last of 3) gives the same bits.
      if (n >= 1) {
        const xb = new Float32Array(3 * k);
        xb.set(rand(r, 2 * k)); xb.set(x.subarray(0, k), 2 * k);
        const ob = new Float32Array(3 * m);
        K.matmulF32(ob, xb, w, 3, k, m);
        expect(Array.from(ob.subarray(2 * m))).toEqual(Array.from(out.subarray(0, m)));
      }
    }
  });

  it("q8_0 matmul (q8 activations) equals the exact reference on odd n and m; batched bits equal single-row bits", () => {
    const r = new Prng(12), K = createWasmKernels()!;
    for (const [n, k, m] of [[1, 32, 1], [3, 64, 5], [5, 96, 9], [8, 160, 7], [33, 32, 3]] as const) {
      const x = rand(r, n * k), bytes = q8(r, m, k), w = K.placeGguf("matmulQ8_0", bytes, k, m)!, out = new Float32Array(n * m);
      K.matmulQ8_0(out, x, w, n, k, m);
      expect(Array.from(out), `q8_0 ${n}x${k}x${m}`).toEqual(Array.from(matmulQ8Act("q8_0", x, bytes, n, k, m)));
      for (let i = 0; i < n; i++) {
        const one = new Float32Array(m);
        K.matmulQ8_0(one, x.subarray(i * k, (i + 1) * k), w, 1, k, m);
        expect(Array.from(one), `row ${i} alone`).toEqual(Array.from(out.subarray(i * m, (i + 1) * m)));
      }
    }
  });

  it("weights stay valid across memory growth; backends do not share memory", async () => {
    const r = new Prng(13), K = createWasmKernels()!, K2 = createWasmKernels()!;
    const w = K.placeF32(rand(r, 4 * 8))!, x = rand(r, 8), a = new Float32Array(4), b = new Float32Array(4);
    K.matmulF32(a, x, w, 1, 8, 4);
    K.placeF32(new Float32Array(3 << 20)); // grows the memory by 12 MiB
    K.matmulF32(b, x, w, 1, 8, 4);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(K2.addressOf(w)).toBe(-1);
    expect(() => K2.matmulF32(b, x, w, 1, 8, 4)).toThrow(/not resident/);
  });

  it("the cpu backend routes matmul through wasm and matches the JS kernel within f32 rounding", async () => {
    const r = new Prng(14);
    const wasmBe = await cpuBackendPlugin.create({} as never), jsBe = new (wasmBe.constructor as new (o: { wasm: boolean }) => typeof wasmBe)({ wasm: false });
    expect(wasmBe.device).toMatch(/WebAssembly/);
    const [n, k, m] = [6, 45, 11], xv = rand(r, n * k), wv = rand(r, m * k);
    const outs: Float32Array[] = [];
    for (const be of [wasmBe, jsBe]) {
      const w = be.upload(wv, [m, k]), x = be.upload(xv, [n * k]), out = be.empty([n, m]);
      be.ops.matmul(out, x, w, n);
      outs.push((await be.read(out)) as Float32Array);
    }
    for (let i = 0; i < n * m; i++) expect(Math.abs(outs[0]![i]! - outs[1]![i]!)).toBeLessThan(1e-5);
  });

  it("fixed bits on every runtime (Bun, Deno and Node run the same wasm)", () => {
    const r = new Prng(15), K = createWasmKernels()!;
    const [n, k, m] = [5, 67, 13], x = rand(r, n * k), w = K.placeF32(rand(r, m * k))!, out = new Float32Array(n * m);
    K.matmulF32(out, x, w, n, k, m);
    const bytes = q8(r, 7, 64), wq = K.placeGguf("matmulQ8_0", bytes, 64, 7)!, xq = rand(r, 3 * 64), oq = new Float32Array(3 * 7);
    K.matmulQ8_0(oq, xq, wq, 3, 64, 7);
    // Recorded under Node 20 (vitest); bun test must print the same digests.
    expect([digest(out), digest(oq)]).toEqual(EXPECTED_DIGESTS);
  });
});

describe.skipIf(!wasmSimdAvailable())("the kernels module a backend loads", () => {
  it("is kernels-relaxed.wasm where relaxed SIMD runs, unless LLM_CPU_WASM=simd128; the device line says which", async () => {
    const before = process.env.LLM_CPU_WASM;
    try {
      delete process.env.LLM_CPU_WASM;
      const auto = createWasmKernels()!;
      expect(auto.relaxedSimd).toBe(relaxedSimdAvailable());
      auto.dispose();
      const be = await cpuBackendPlugin.create({ threads: 1 } as never);
      expect(be.device.includes("relaxed SIMD")).toBe(relaxedSimdAvailable());
      be.dispose();
      process.env.LLM_CPU_WASM = "simd128";
      const plain = createWasmKernels()!;
      expect(plain.relaxedSimd).toBe(false);
      plain.dispose();
    } finally {
      if (before === undefined) delete process.env.LLM_CPU_WASM;
      else process.env.LLM_CPU_WASM = before;
    }
  });

  // Node 20 (CI) gets relaxed SIMD through V8's flag; Bun, Deno and newer Node have it built in.
  it("relaxed SIMD is found on this runtime", () => {
    expect(relaxedSimdAvailable()).toBe(true);
  });
});

const EXPECTED_DIGESTS = ["b5dce6b486f9c1c9", "0acf69d91b07b700"];

describe("the wasm modules are built from their sources", () => {
  const asc = join(ROOT, "node_modules", "assemblyscript", "bin", "asc.js");
  it.skipIf(!existsSync(asc))("scripts/build-wasm.sh reproduces the committed kernels.wasm, kernels-relaxed.wasm and ops.wasm byte for byte", () => {
    const dir = mkdtempSync(join(tmpdir(), "wasm-build-"));
    try {
      execFileSync("bash", [join(ROOT, "scripts/build-wasm.sh"), dir], { cwd: ROOT, stdio: "pipe" });
      for (const name of ["kernels.wasm", "kernels-relaxed.wasm", "ops.wasm"]) {
        const built = readFileSync(join(dir, name)), committed = readFileSync(join(ROOT, "plugins/backend/cpu/wasm", name));
        expect(built.equals(committed), `${name} is stale: run scripts/build-wasm.sh`).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  if (!existsSync(asc)) it("(skipped: assemblyscript is not installed, so the wasm modules cannot be rebuilt here)", () => {});
});
