// One thread of the cpu backend's pool (plain JavaScript so Node, Bun and Deno load it as is).
// It instantiates the kernels module over the backend's shared memory, then loops: wait for a new
// generation in the control block, run its column range of the posted kernel, count itself done.
// Layout of the control block (Int32Array over a SharedArrayBuffer), see thread-pool.ts.
import { workerData } from "node:worker_threads";

const GEN = 0, DONE = 1, FN = 2, STOP = 3, ARGS = 4;
const { module, memory, control, names, index, threads, spin } = workerData;
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = names.map((n) => exports[n]);
const ctl = control;
let seen = 0;

for (;;) {
  // Spin briefly (a step posts many kernels back to back), then sleep on the generation word.
  let gen = Atomics.load(ctl, GEN);
  for (let i = 0; gen === seen && i < spin; i++) gen = Atomics.load(ctl, GEN);
  while (gen === seen) {
    Atomics.wait(ctl, GEN, seen);
    gen = Atomics.load(ctl, GEN);
  }
  seen = gen;
  if (Atomics.load(ctl, STOP) !== 0) break;
  const m = ctl[ARGS + 5];
  const align = ctl[ARGS + 6];
  const j0 = Math.min(m, Math.round((m * index) / threads / align) * align);
  const j1 = index === threads - 1 ? m : Math.min(m, Math.round((m * (index + 1)) / threads / align) * align);
  if (j1 > j0) {
    fns[ctl[FN]](ctl[ARGS] >>> 0, ctl[ARGS + 1] >>> 0, ctl[ARGS + 2] >>> 0, ctl[ARGS + 3], ctl[ARGS + 4], m, j0, j1);
  }
  Atomics.add(ctl, DONE, 1);
  Atomics.notify(ctl, DONE);
}
