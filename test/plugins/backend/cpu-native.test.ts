/**
 * The optional cpu-native addon: f32/F16 kernels against an f64 reference on sizes that are not
 * multiples of the vector width; Q8_0/Q4_0 against the q8-activation contract (an f64 reference
 * over the same quantized activations, and the exact JavaScript reference bit for bit on odd
 * shapes, 1/2/3 threads, AVX2 and portable C); identical bits for any thread count and between the
 * two paths, bad arguments refused, and the backend end to end on the goldens. Skipped (with the
 * reason printed) where the addon is not built; CI builds it.
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { createNativeKernels, loadCpuNativeAddon } from "../../../plugins/backend/cpu-native/native-kernels.ts";
import { createWasmKernels } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { cpuNativeBackendPlugin } from "../../../plugins/backend/cpu-native/index.ts";
import { f16ToF32 } from "../../../src/loader/gguf/dequantize.ts";
import { Prng } from "../../../src/sampling/prng.ts";
import { toF16 } from "../../helpers/f16.ts";
import { goldenNames, readGolden } from "../../helpers/golden.ts";
import { directModel } from "../../helpers/direct-model.ts";
import { modelPath } from "../../helpers/models-dir.ts";
import { matmulQ8Act, matmulQ8ActF64 } from "./q8-activation-reference.ts";
import { caseLabel, digest, q8ActCases, runAddonCases } from "./cpu-native-q8act-cases.ts";

const loaded = loadCpuNativeAddon();
const addon = "addon" in loaded ? loaded.addon : null;
if (!addon) console.log(`cpu-native tests skipped: ${"reason" in loaded ? loaded.reason : ""}`);
// CI builds the addon and sets LLM_REQUIRE_CPU_NATIVE=1, so a build that silently failed cannot pass as skipped.
describe.skipIf(!(!addon && process.env.LLM_REQUIRE_CPU_NATIVE === "1"))("cpu-native is required here", () => {
  it("loads", () => {
    expect("reason" in loaded ? loaded.reason : "").toBe("");
  });
});
const ROOT = new URL("../../../", import.meta.url).pathname;

const KIND = { f32: 0, q8_0: 1, q4_0: 2, f16: 3 } as const;
type Kind = keyof typeof KIND;

/** Random weights of `kind` for m rows of k, and their exact values in f64. */
function weights(r: Prng, kind: Kind, m: number, k: number): { w: Uint8Array | Float32Array; deq: Float64Array } {
  const deq = new Float64Array(m * k);
  if (kind === "f32") {
    const w = Float32Array.from({ length: m * k }, () => r.nextFloat() * 2 - 1);
    deq.set(w);
    return { w, deq };
  }
  if (kind === "f16") {
    const h = Uint16Array.from({ length: m * k }, () => toF16(r.nextFloat() * 2 - 1));
    h.forEach((v, i) => { deq[i] = f16ToF32(v); });
    return { w: new Uint8Array(h.buffer), deq };
  }
  const nb = k / 32, bs = kind === "q8_0" ? 34 : 18, w = new Uint8Array(m * nb * bs);
  for (let j = 0; j < m; j++) {
    for (let b = 0; b < nb; b++) {
      const at = (j * nb + b) * bs, h = toF16(0.001 + r.nextFloat() * 0.05), d = f16ToF32(h);
      w[at] = h & 0xff; w[at + 1] = h >>> 8;
      for (let p = 0; p < 32; p++) {
        if (kind === "q8_0") {
          const q = Math.floor(r.nextFloat() * 255) - 127;
          w[at + 2 + p] = q & 0xff;
          deq[j * k + b * 32 + p] = d * q;
        } else if (p < 16) {
          const lo = Math.floor(r.nextFloat() * 16), hi = Math.floor(r.nextFloat() * 16);
          w[at + 2 + p] = lo | (hi << 4);
          deq[j * k + b * 32 + p] = d * (lo - 8);
          deq[j * k + b * 32 + p + 16] = d * (hi - 8);
        }
      }
    }
  }
  return { w, deq };
}

describe.skipIf(!addon)("cpu-native addon kernels", () => {
  const shapes: Record<Kind, [number, number, number][]> = {
    f32: [[1, 1, 1], [1, 7, 3], [3, 9, 5], [2, 17, 6], [5, 33, 9], [4, 64, 13], [33, 67, 17], [3, 1027, 67]], // the last: k·m >= 65536 (single-row streaming)
    f16: [[1, 1, 1], [1, 7, 3], [3, 9, 5], [5, 33, 9], [33, 67, 17]],
    q8_0: [[1, 32, 1], [2, 64, 3], [5, 96, 9], [7, 32, 13], [33, 64, 17]],
    q4_0: [[1, 32, 1], [2, 64, 3], [5, 96, 9], [7, 32, 13], [33, 64, 17]],
  };
  for (const kind of ["f32", "f16"] as const) {
    it(`${kind}: matches an f64 reference within f32 accumulation error`, () => {
      const r = new Prng(5), pool = addon!.createPool(1);
      for (const [n, k, m] of shapes[kind]) {
        const { w, deq } = weights(r, kind, m, k);
        const x = Float32Array.from({ length: n * k }, () => r.nextFloat() * 2 - 1), out = new Float32Array(n * m);
        addon!.matmul(pool, KIND[kind], out, x, w, n, k, m);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < m; j++) {
            let s = 0, abs = 0;
            for (let p = 0; p < k; p++) { s += x[i * k + p]! * deq[j * k + p]!; abs += Math.abs(x[i * k + p]! * deq[j * k + p]!); }
            expect(Math.abs(out[i * m + j]! - s), `${kind} ${n}x${k}x${m} [${i},${j}]`).toBeLessThanOrEqual(abs * (k + 8) * 2 ** -23 + 1e-30);
          }
        }
      }
    });
  }

  for (const kind of ["q8_0", "q4_0"] as const) {
    it(`${kind}: equals Σ dx*dw*isum over Q8_0-quantized activations (f64) within 1e-5 of Σ|terms|`, () => {
      const r = new Prng(5), pool = addon!.createPool(1);
      for (const [n, k, m] of shapes[kind]) {
        const { w } = weights(r, kind, m, k);
        const x = Float32Array.from({ length: n * k }, () => r.nextFloat() * 2 - 1), out = new Float32Array(n * m);
        addon!.matmul(pool, KIND[kind], out, x, w as Uint8Array, n, k, m);
        const ref = matmulQ8ActF64(kind, x, w as Uint8Array, n, k, m);
        for (let e = 0; e < n * m; e++) {
          expect(Math.abs(out[e]! - ref.value[e]!), `${kind} ${n}x${k}x${m} [${e}]`).toBeLessThanOrEqual(ref.abs[e]! * 1e-5 + 1e-30);
        }
      }
    });
  }

  it("Q8_0/Q4_0 equal the exact JavaScript contract bit for bit (odd shapes, 1/2/3 threads, AVX2 and portable C)", () => {
    const cases = q8ActCases(), threads = [1, 2, 3];
    const want = threads.flatMap((t) => cases.map((c) => `${caseLabel(c)} threads=${t} ${digest(matmulQ8Act(c.kind, c.x, c.w, c.n, c.k, c.m))}`));
    expect(runAddonCases(addon!, threads), addon!.features()).toEqual(want);
    if (addon!.features() === "generic") return; // the portable path is the one just checked
    const script = `
      import { loadCpuNativeAddon } from "./plugins/backend/cpu-native/native-kernels.ts";
      import { runAddonCases } from "./test/plugins/backend/cpu-native-q8act-cases.ts";
      const a = loadCpuNativeAddon().addon;
      console.log(JSON.stringify({ features: a.features(), lines: runAddonCases(a, [${threads.join(", ")}]) }));`;
    const generic = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT, encoding: "utf8", env: { ...process.env, LLM_CPU_NATIVE_ISA: "generic" },
    }));
    expect(generic.features).toBe("generic");
    expect(generic.lines).toEqual(want);
  });

  it("Q8_0/Q4_0 products equal the cpu backend's WebAssembly kernels bit for bit (the shared contract)", () => {
    const wasm = createWasmKernels(2), native = createNativeKernels(2);
    if ("reason" in native) throw new Error(native.reason);
    try {
      if (!wasm) return; // no WebAssembly SIMD here: nothing to compare with
      for (const c of q8ActCases()) {
        const which = c.kind === "q8_0" ? "matmulQ8_0" : "matmulQ4_0", a = new Float32Array(c.n * c.m), b = new Float32Array(c.n * c.m);
        native.matmulPlaced(which, a, c.x, native.placeGguf(which, c.w, c.k, c.m)!, c.n, c.k, c.m);
        wasm.matmulPlaced(which, b, c.x, wasm.placeGguf(which, c.w, c.k, c.m)!, c.n, c.k, c.m);
        expect(digest(a), caseLabel(c)).toBe(digest(b));
      }
    } finally {
      native.dispose();
      wasm?.dispose();
    }
  });

  it("gives identical bits on 1, 2 and 3 threads, for any batch size (each row alone equals the batch)", () => {
    const r = new Prng(9);
    const pools = [1, 2, 3].map((t) => addon!.createPool(t));
    expect(pools.map((p) => addon!.poolThreads(p))).toEqual([1, 2, 3]);
    for (const kind of Object.keys(KIND) as Kind[]) {
      const n = 9, k = 256, m = 1031;
      const { w } = weights(r, kind, m, k);
      const x = Float32Array.from({ length: n * k }, () => r.nextFloat() * 2 - 1);
      const outs = pools.map((p) => { const o = new Float32Array(n * m); addon!.matmul(p, KIND[kind], o, x, w, n, k, m); return o; });
      for (const o of outs.slice(1)) expect(Buffer.from(o.buffer).equals(Buffer.from(outs[0]!.buffer)), kind).toBe(true);
      for (let i = 0; i < n; i++) {
        const one = new Float32Array(m);
        addon!.matmul(pools[1]!, KIND[kind], one, x.subarray(i * k, (i + 1) * k), w, 1, k, m);
        expect(Buffer.from(one.buffer).equals(Buffer.from(outs[0]!.buffer, i * m * 4, m * 4)), `${kind} row ${i}`).toBe(true);
      }
    }
  });

  it("the AVX2 and portable C paths compute identical bits", () => {
    if (addon!.features() === "generic") return; // only one path on this CPU
    const script = `
      import { loadCpuNativeAddon } from "./plugins/backend/cpu-native/native-kernels.ts";
      const a = loadCpuNativeAddon().addon; const p = a.createPool(1);
      let s = 7; const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
      const out = [];
      for (const [kind, bytes] of [[0, 4], [1, 34 / 32], [2, 18 / 32], [3, 2]]) {
        const n = 5, k = 160, m = 37;
        const w = new Uint8Array(Math.ceil(k * m * bytes)); for (let i = 0; i < w.length; i++) w[i] = (rnd() * 128 + 128) & 0xff;
        if (kind === 0 || kind === 3) { const f = kind === 0 ? new Float32Array(w.buffer) : null; if (f) for (let i = 0; i < f.length; i++) f[i] = rnd(); else { const h = new Uint16Array(w.buffer); for (let i = 0; i < h.length; i++) h[i] = 0x3000 + ((rnd() * 4096) & 0xfff) + (rnd() < 0 ? 0x8000 : 0); } }
        else { const bs = kind === 1 ? 34 : 18; for (let b = 0; b < w.length; b += bs) { w[b] = 0; w[b + 1] = 0x20; } }
        const x = Float32Array.from({ length: n * k }, rnd), o = new Float32Array(n * m);
        a.matmul(p, kind, o, x, w, n, k, m); out.push(Buffer.from(o.buffer).toString("base64"));
      }
      console.log(JSON.stringify({ features: a.features(), out }));`;
    const run = (isa?: string) => JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT, encoding: "utf8", env: { ...process.env, ...(isa ? { LLM_CPU_NATIVE_ISA: isa } : {}) },
    }));
    const fast = run(), generic = run("generic");
    expect(fast.features).not.toBe("generic");
    expect(generic.features).toBe("generic");
    expect(generic.out).toEqual(fast.out);
  });

  it("refuses bad arguments with a reason", () => {
    const p = addon!.createPool(1);
    expect(() => addon!.matmul(p, 0, new Float32Array(1), new Float32Array(1), new Float32Array(4), 1, 2, 2)).toThrow(/arrays too small/);
    expect(() => addon!.matmul(p, 1, new Float32Array(4), new Float32Array(40), new Uint8Array(100), 1, 40, 1)).toThrow(/k % 32/);
    expect(() => addon!.matmul(p, 9, new Float32Array(1), new Float32Array(1), new Float32Array(1), 1, 1, 1)).toThrow(/unknown kind/);
    expect(() => addon!.matmul({}, 0, new Float32Array(1), new Float32Array(1), new Float32Array(1), 1, 1, 1)).toThrow(/pool/);
    expect(() => addon!.createPool(0)).toThrow(/threads/);
  });
});

describe.skipIf(!addon)("the cpu-native backend", () => {
  it("reproduces the goldens' greedy tokens on the f32 and q8_0 files", async () => {
    const backend = await cpuNativeBackendPlugin.create({ threads: 2 });
    expect(backend.device).toMatch(/C addon/);
    for (const file of ["stories260K-f32.gguf", "stories260K-q8_0.gguf"]) {
      const { ggufQuantPlugin } = await import("../../../plugins/quant/gguf/index.ts");
      const m = await directModel(modelPath("stories260K", file), { quant: ggufQuantPlugin, backend });
      for (const name of goldenNames().slice(0, 3)) {
        const g = readGolden(name);
        const { ids } = await m.greedy(g.prompt_ids, 24);
        expect(ids, `${file} ${name}`).toEqual(g.generated_ids.slice(0, 24));
      }
    }
    backend.dispose();
  });
});
