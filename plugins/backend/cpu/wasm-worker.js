// One thread of the cpu backend's pool (plain JavaScript so Node, Bun and Deno load it as is).
// It instantiates the kernels module over the backend's shared memory, then loops: sleep until
// the generation word changes, then claim chunks of output columns of the posted kernel call
// (see thread-pool.ts for the control block) until none are left.
import { workerData } from "node:worker_threads";

const GEN = 0, NEXT = 1, DONE = 2, STOP = 3, FN = 4, ARGS = 5, READY = 11, CHUNK = 12, CHUNKS = 13, BASE = 14, FAILED = 15, BIG = 16, SMALL = 17;
const { module, opsModule, memory, control, names, spinMs, scratch } = workerData;
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ops = opsModule ? new WebAssembly.Instance(opsModule, { env: { memory } }).exports : {};
// This thread's kernel scratch (its own region of the shared memory).
if (scratch && typeof exports.setScratch === "function") exports.setScratch(scratch.at, scratch.bytes);
if (scratch && typeof ops.setScratch === "function") ops.setScratch(scratch.at, scratch.bytes);
// "ops.name" names a function of ops.wasm, other names functions of kernels.wasm.
const fns = names.map((n) => (n.startsWith("ops.") ? ops[n.slice(4)] : exports[n]));
const ctl = control;
const missing = names.filter((_, i) => typeof fns[i] !== "function");
if (missing.length > 0) throw new Error(`kernels not found in the wasm modules: ${missing.join(", ")}`);
Atomics.add(ctl, READY, 1);
let seen = 0;

for (;;) {
  let gen = Atomics.load(ctl, GEN);
  // Spin for up to spinMs (the clock read every 256 loads), then sleep until the next call.
  for (let i = 1, until = gen === seen ? performance.now() + spinMs : 0; gen === seen; i++) {
    gen = Atomics.load(ctl, GEN);
    if ((i & 255) === 0 && performance.now() > until) break;
  }
  while (gen === seen) {
    Atomics.wait(ctl, GEN, seen);
    gen = Atomics.load(ctl, GEN);
  }
  seen = gen;
  if (Atomics.load(ctl, STOP) !== 0) break;
  for (;;) {
    const claim = Atomics.add(ctl, NEXT, 1);
    // Read after the claim, CHUNKS before BASE (see thread-pool.ts): a valid claim's call is fully posted.
    const chunks = Atomics.load(ctl, CHUNKS);
    const c = (claim - Atomics.load(ctl, BASE)) | 0;
    if (c < 0 || c >= chunks) break;
    // chunkPlan's chunks (thread-pool.ts): BIG of CHUNK columns, then SMALL ones.
    const m = ctl[ARGS + 5], chunk = ctl[CHUNK], big = ctl[BIG], small = ctl[SMALL];
    const j0 = c < big ? c * chunk : big * chunk + (c - big) * small, j1 = Math.min(m, j0 + (c < big ? chunk : small));
    try {
      fns[ctl[FN]](ctl[ARGS] >>> 0, ctl[ARGS + 1] >>> 0, ctl[ARGS + 2] >>> 0, ctl[ARGS + 3], ctl[ARGS + 4], m, j0, j1);
    } catch (e) {
      // Counted done so the call ends; the caller sees FAILED and throws; this error reaches its "error" handler.
      Atomics.store(ctl, FAILED, 1);
      if (Atomics.add(ctl, DONE, 1) + 1 === chunks) Atomics.notify(ctl, DONE);
      throw e;
    }
    if (Atomics.add(ctl, DONE, 1) + 1 === chunks) Atomics.notify(ctl, DONE);
  }
}
