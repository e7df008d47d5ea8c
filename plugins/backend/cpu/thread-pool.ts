/**
 * A persistent pool of worker threads over one shared WebAssembly memory (no worker is spawned
 * per op). run() posts one kernel call; every thread, the calling one included, computes its own
 * range of output columns, and run() returns when all are done. The split depends only on m and
 * the thread count, and each output element is computed the same way whatever its range, so
 * results do not depend on the number of threads.
 *
 * Control block (Int32Array over a SharedArrayBuffer): GEN generation, DONE workers finished,
 * FN kernel index, STOP, then ARGS: out, x, w (wasm addresses, read as unsigned), n, k, m, align.
 */
import { Worker } from "node:worker_threads";

const GEN = 0, DONE = 1, FN = 2, STOP = 3, ARGS = 4;
const CONTROL_WORDS = 16;
/** Spin iterations before a thread sleeps (a step posts hundreds of kernels back to back). */
const SPIN = 20000;

/** The column range [j0, j1) of thread `index` of `threads` over m columns, boundaries on multiples of align. */
export function columnRange(m: number, index: number, threads: number, align: number): [number, number] {
  const at = (t: number) => (t >= threads ? m : Math.min(m, Math.round((m * t) / threads / align) * align));
  return [at(index), at(index + 1)];
}

export type KernelFn = (out: number, x: number, w: number, n: number, k: number, m: number, j0: number, j1: number) => void;

export class WasmThreadPool {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly workers: Worker[] = [];
  private gen = 0;
  private stopped = false;

  /**
   * Starts threads-1 workers, each instantiating `module` over `memory` with the kernels `names`
   * (indices into that list are what run() takes).
   */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[], threads: number) {
    this.threads = threads;
    this.ctl = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    for (let index = 1; index < threads; index++) {
      const w = new Worker(new URL("./wasm-worker.js", import.meta.url), {
        workerData: { module, memory, control: this.ctl, names: [...names], index, threads, spin: SPIN },
      });
      w.unref();
      w.on("error", () => { /* a dead worker is reported by run() timing out as unresponsive */ });
      this.workers.push(w);
    }
  }

  /**
   * Runs kernel `fn` (the local instance's function `local`) over all threads: columns split in
   * multiples of `align`. Blocks the calling thread until every range is done.
   */
  run(fn: number, local: KernelFn, out: number, x: number, w: number, n: number, k: number, m: number, align = 4): void {
    if (this.stopped) throw new Error("cpu backend thread pool used after dispose()");
    const ctl = this.ctl;
    ctl[FN] = fn;
    ctl[ARGS] = out | 0; ctl[ARGS + 1] = x | 0; ctl[ARGS + 2] = w | 0;
    ctl[ARGS + 3] = n; ctl[ARGS + 4] = k; ctl[ARGS + 5] = m; ctl[ARGS + 6] = align;
    Atomics.store(ctl, DONE, 0);
    this.gen = (this.gen + 1) | 0;
    Atomics.store(ctl, GEN, this.gen);
    Atomics.notify(ctl, GEN);
    const [j0, j1] = columnRange(m, 0, this.threads, align);
    if (j1 > j0) local(out, x, w, n, k, m, j0, j1);
    const want = this.threads - 1;
    let done = Atomics.load(ctl, DONE);
    for (let i = 0; done < want && i < SPIN; i++) done = Atomics.load(ctl, DONE);
    while (done < want) {
      if (Atomics.wait(ctl, DONE, done, 10_000) === "timed-out" && Atomics.load(ctl, DONE) === done) {
        throw new Error(`cpu backend: ${want - done} worker thread(s) did not answer within 10 s`);
      }
      done = Atomics.load(ctl, DONE);
    }
  }

  /** Stops and ends the workers. */
  dispose(): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.ctl, STOP, 1);
    this.gen = (this.gen + 1) | 0;
    Atomics.store(this.ctl, GEN, this.gen);
    Atomics.notify(this.ctl, GEN);
    for (const w of this.workers) void w.terminate();
  }
}
