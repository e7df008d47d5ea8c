/**
 * A persistent pool of worker threads over one shared WebAssembly memory (no worker is spawned
 * per op). run() posts one kernel call split into chunks of output columns; every thread, the
 * calling one included, claims chunks from a shared counter until none are left, so a worker that
 * the OS has not scheduled costs nothing but its share of speed-up (the caller does its chunks).
 * Each output element is computed the same way whatever chunk it falls in, so results do not
 * depend on the number of threads or on who computed what.
 *
 * Control block (Int32Array over a SharedArrayBuffer): GEN generation (workers sleep on it),
 * NEXT the claim counter, DONE chunks finished, STOP, FN kernel index, ARGS out, x, w (wasm
 * addresses, read as unsigned), n, k, m; CHUNK columns per big chunk, BIG big chunks, SMALL
 * columns per later chunk (chunkPlan), CHUNKS chunk count, BASE the counter value of this call's
 * chunk 0. A claim c is chunk c - BASE when 0 <= c - BASE < CHUNKS.
 * Each call's BASE lies past every value the previous call's counter can have reached (its chunks
 * plus one failed claim per thread), so a late claim against an old call never passes for a new one;
 * the call is posted (args, DONE, BASE, CHUNKS) before NEXT opens it, and a claimer reads CHUNKS
 * before BASE (the reverse of the posting order), so it never pairs an old BASE with new CHUNKS.
 * READY counts workers that instantiated their kernels; FAILED is set by a worker whose kernel
 * threw (it still counts the chunk done, so the call ends, and run() then throws).
 *
 * A worker that fails is never hidden: its error (at start-up or in a kernel) makes the next run()
 * throw, rather than the caller quietly computing every chunk on one thread.
 */
import { Worker } from "node:worker_threads";

const GEN = 0, NEXT = 1, DONE = 2, STOP = 3, FN = 4, ARGS = 5, READY = 11, CHUNK = 12, CHUNKS = 13, BASE = 14, FAILED = 15, BIG = 16, SMALL = 17;
const CONTROL_WORDS = 18;
/**
 * Milliseconds an idle worker spins before it sleeps. A step posts hundreds of calls with the
 * caller's own work between them (a few µs to a few hundred); a worker that slept in those gaps
 * (about 60 times per decode step of a 135M model with a spin of ~50 µs) paid a wake-up each time,
 * and the OS could wake it on the caller's core. Spinning through a whole step avoids both; the
 * cost is at most this much CPU after the last call of a step.
 */
export const SPIN_MS = 2;
/**
 * Spin iterations of the calling thread, its own chunks done, before it sleeps on the workers'
 * last chunks: most calls end within microseconds of that, sooner than a wake from Atomics.wait.
 */
const CALLER_SPIN = 20000;

/** Columns per chunk: about 4 chunks per thread, a multiple of 8 (the Q8_0/Q4_0 kernels' column groups), at least 16. */
export function chunkColumns(m: number, threads: number): number {
  return Math.max(16, Math.ceil(m / (threads * 4) / 8) * 8);
}

/**
 * The chunks of a call over m columns: `big` chunks of `chunk` columns (about the first three
 * quarters), then chunks of `small` (a sixteenth of that, a multiple of 8, at least 8) to the end,
 * so the thread that takes the last chunk keeps the others waiting for a short one only. Chunk c covers
 * [j0, j1) = chunkRange(c); the same formula in wasm-worker.js.
 */
export function chunkPlan(m: number, threads: number): { chunk: number; big: number; small: number; chunks: number } {
  const chunk = chunkColumns(m, threads), small = Math.max(8, Math.floor(chunk / 128) * 8);
  const big = Math.min(Math.ceil(m / chunk), Math.floor((m * 3) / 4 / chunk));
  const tail = m - big * chunk;
  return { chunk, big, small, chunks: big + Math.ceil(tail / small) };
}

export type KernelFn = (out: number, x: number, w: number, n: number, k: number, m: number, j0: number, j1: number) => void;

export class WasmThreadPool {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly workers: Worker[] = [];
  private gen = 0;
  private base = 0;
  private stopped = false;
  private failure: string | null = null;
  private workerChunks = 0;
  private totalChunks = 0;

  /**
   * Starts threads-1 workers, each instantiating `module` (and `opsModule`) over `memory` with the
   * kernels `names` ("ops.x" for ops.wasm's x; indices into that list are what run() takes).
   * `scratch`: thread i's region of per-thread kernel scratch is at + i bytes (i = 0 the caller's).
   * `spinMs`: how long an idle worker spins before it sleeps (shorter where other threads share the
   * cores between this pool's calls, as cpu-native's C pool does).
   */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[], threads: number, opsModule: WebAssembly.Module | null = null, scratch: { at: number; bytes: number } | null = null, spinMs = SPIN_MS) {
    this.threads = threads;
    this.ctl = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    Atomics.store(this.ctl, CHUNKS, 0);
    for (let index = 1; index < threads; index++) {
      const w = new Worker(new URL("./wasm-worker.js", import.meta.url), {
        workerData: { module, opsModule, memory, control: this.ctl, names: [...names], spinMs, scratch: scratch ? { at: scratch.at + index * scratch.bytes, bytes: scratch.bytes } : null },
      });
      w.unref();
      w.on("error", (e: unknown) => { this.failure ??= `worker thread ${index} failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`; });
      this.workers.push(w);
    }
  }

  /** Runs kernel `fn` (this thread's instance of it: `local`) over all threads; returns when every chunk is done. */
  run(fn: number, local: KernelFn, out: number, x: number, w: number, n: number, k: number, m: number): void {
    if (this.stopped) throw new Error("cpu backend thread pool used after dispose()");
    if (this.failure) throw new Error(`cpu backend: ${this.failure} (--threads 1 runs without worker threads)`);
    const ctl = this.ctl;
    const { chunk, big, small, chunks } = chunkPlan(m, this.threads);
    // Post the call, then open the chunk counter, then wake the workers.
    ctl[FN] = fn;
    ctl[ARGS] = out | 0; ctl[ARGS + 1] = x | 0; ctl[ARGS + 2] = w | 0;
    ctl[ARGS + 3] = n; ctl[ARGS + 4] = k; ctl[ARGS + 5] = m; ctl[CHUNK] = chunk; ctl[BIG] = big; ctl[SMALL] = small;
    const base = this.base;
    this.base = (base + chunks + this.threads + 1) | 0;
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, BASE, base);
    Atomics.store(ctl, CHUNKS, chunks);
    Atomics.store(ctl, NEXT, base);
    this.gen = (this.gen + 1) | 0;
    Atomics.store(ctl, GEN, this.gen);
    Atomics.notify(ctl, GEN);
    let mine = 0;
    for (;;) {
      const c = (Atomics.add(ctl, NEXT, 1) - base) | 0;
      if (c >= chunks) break;
      const j0 = c < big ? c * chunk : big * chunk + (c - big) * small;
      local(out, x, w, n, k, m, j0, Math.min(m, j0 + (c < big ? chunk : small)));
      mine++;
    }
    let done = Atomics.add(ctl, DONE, mine) + mine;
    for (let i = 0; done < chunks && i < CALLER_SPIN; i++) done = Atomics.load(ctl, DONE);
    while (done < chunks) {
      // Only chunks a worker claimed are outstanding: it is running them now.
      if (Atomics.wait(ctl, DONE, done, 10_000) === "timed-out" && Atomics.load(ctl, DONE) === done) {
        throw new Error(`cpu backend: a worker thread has not finished its chunk within 10 s`);
      }
      done = Atomics.load(ctl, DONE);
    }
    this.workerChunks += chunks - mine;
    this.totalChunks += chunks;
    if (Atomics.load(ctl, FAILED) !== 0) {
      this.failure ??= "a worker thread's kernel threw";
      throw new Error(`cpu backend: ${this.failure} (--threads 1 runs without worker threads)`);
    }
  }

  /** Workers that have started (instantiated their kernels), chunks they have run of all chunks posted, and the first failure. */
  status(): { readyWorkers: number; workerChunks: number; totalChunks: number; failure: string | null } {
    return { readyWorkers: Atomics.load(this.ctl, READY), workerChunks: this.workerChunks, totalChunks: this.totalChunks, failure: this.failure };
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
