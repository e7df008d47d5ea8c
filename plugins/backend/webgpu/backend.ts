/// <reference types="@webgpu/types" />
import type { Backend, BackendOps, DType, DeviceTensor } from "../../../src/plugin/types.ts";
import { BufferPool } from "./buffer-pool.ts";
import { CommandStream, type Binding, type Kernel } from "./command-stream.ts";
import { WebGpuError, describeDeviceLost, describeGpuError, mib } from "./errors.ts";
import { REQUESTED_LIMITS, acquireAdapter, describeAdapter } from "./gpu-api.ts";
import { makeOps } from "./ops.ts";
import { WebGpuTensor, gpuTensor, numel } from "./tensor.ts";

const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/**
 * The WebGPU backend: tensors in pooled storage buffers, kernels in WGSL. Ops record compute
 * dispatches into one command buffer per step; read() submits it and maps a staging buffer, so a
 * forward pass costs one submit and one readback. Errors the device reports asynchronously (out of
 * memory, validation, device lost) are rethrown as WebGpuError at the next read() or op.
 */
export class WebGpuBackend implements Backend {
  readonly name = "webgpu";
  readonly ops: BackendOps;
  readonly limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  /** True when the device has shader-f16 (f16 storage for weights). */
  readonly hasF16: boolean;
  private readonly pool: BufferPool;
  private readonly stream: CommandStream;
  private readonly stagingPool: BufferPool;
  private bytes = 0;
  private failure: string | null = null;
  private disposed = false;
  private readonly kernels = new Map<string, Kernel>();

  private constructor(readonly gpu: GPUDevice, readonly device: string, private readonly instance: GPU) {
    this.limits = { maxBufferSize: gpu.limits.maxBufferSize, maxStorageBufferBindingSize: gpu.limits.maxStorageBufferBindingSize };
    this.hasF16 = gpu.features.has("shader-f16");
    this.pool = new BufferPool(gpu, 256 << 20, (b) => this.stream.forget(b));
    this.stagingPool = new BufferPool(gpu, 64 << 20);
    this.stream = new CommandStream(gpu, this.pool, gpu.limits.maxComputeWorkgroupsPerDimension);
    this.ops = makeOps(this);
    gpu.lost.then((info) => {
      if (!this.disposed) this.failure ??= describeDeviceLost(info);
    });
    gpu.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.failure ??= describeGpuError(ev.error);
    };
  }

  static async create(): Promise<WebGpuBackend> {
    const got = await acquireAdapter();
    if ("reasons" in got) throw new WebGpuError(`webgpu backend unavailable: ${got.reasons.join("; ")}`);
    const { adapter, via, gpu: instance } = got;
    const requiredLimits: Record<string, number> = {};
    for (const k of REQUESTED_LIMITS) {
      const v = (adapter.limits as unknown as Record<string, number | undefined>)[k];
      if (typeof v === "number") requiredLimits[k] = v;
    }
    const requiredFeatures: GPUFeatureName[] = adapter.features.has("shader-f16") ? ["shader-f16"] : [];
    let gpu: GPUDevice;
    try {
      gpu = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: "llm" });
    } catch (e) {
      throw new WebGpuError(`webgpu: the adapter refused a device (${(e as Error).message.split("\n")[0]})`);
    }
    return new WebGpuBackend(gpu, describeAdapter(adapter, via), instance);
  }

  /** Throws the first asynchronous device failure, if any. */
  checkHealthy(): void {
    if (this.failure) throw new WebGpuError(this.failure);
    if (this.disposed) throw new WebGpuError("webgpu: backend used after dispose()");
  }

  /** Refuses sizes over the adapter's limits, naming both. */
  checkSize(bytes: number, what: string): void {
    const { maxBufferSize, maxStorageBufferBindingSize } = this.limits;
    if (bytes > maxStorageBufferBindingSize || bytes > maxBufferSize) {
      const [limit, name] = maxStorageBufferBindingSize <= maxBufferSize ? [maxStorageBufferBindingSize, "maxStorageBufferBindingSize"] : [maxBufferSize, "maxBufferSize"];
      throw new WebGpuError(`webgpu: ${what} needs ${bytes} bytes (${mib(bytes)}), over the adapter's ${name} of ${limit} bytes (${mib(limit)}); use a quantized model (--quant gguf or int4) or a smaller one`);
    }
  }

  private alloc(shape: readonly number[], dtype: DType, what: string): WebGpuTensor {
    this.checkHealthy();
    const n = numel(shape);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`webgpu: bad tensor shape [${shape.join(", ")}]`);
    const byteLength = n * 4;
    this.checkSize(byteLength, `${what} [${shape.join(", ")}]`);
    const buffer = this.pool.acquire(byteLength, STORAGE());
    this.bytes += byteLength;
    return new WebGpuTensor(dtype, [...shape], buffer, byteLength);
  }

  empty(shape: readonly number[], dtype: DType = "f32"): DeviceTensor {
    const t = this.alloc(shape, dtype, "a tensor");
    this.stream.clear(t.buffer);
    return t;
  }

  upload(data: Float32Array | Int32Array, shape: readonly number[]): DeviceTensor {
    if (numel(shape) !== data.length) throw new RangeError(`upload: ${data.length} elements for shape [${shape.join(", ")}]`);
    const t = this.alloc(shape, data instanceof Float32Array ? "f32" : "i32", "a weight tensor");
    this.writeBuffer(t, data);
    return t;
  }

  write(t: DeviceTensor, data: Float32Array | Int32Array): void {
    const g = gpuTensor(t);
    if (data.length * 4 > g.byteLength) throw new RangeError(`write: ${data.length} elements into a tensor of ${g.byteLength / 4}`);
    this.writeBuffer(g, data);
  }

  private writeBuffer(t: WebGpuTensor, data: Float32Array | Int32Array): void {
    this.checkHealthy();
    // queue.writeBuffer runs ahead of unsubmitted commands: submit them first to keep program order.
    if (this.stream.pending) this.stream.flush();
    if (data.length) this.gpu.queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  async read(t: DeviceTensor, count?: number): Promise<Float32Array | Int32Array> {
    const g = gpuTensor(t);
    const n = count ?? g.byteLength / 4;
    if (n * 4 > g.byteLength) throw new RangeError(`read: ${n} elements from a tensor of ${g.byteLength / 4}`);
    this.checkHealthy();
    const bytes = Math.max(4, n * 4);
    const staging = this.stagingPool.acquire(bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.stream.copy(g.buffer, 0, staging, 0, bytes);
    this.stream.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (e) {
      this.checkHealthy();
      throw new WebGpuError(`webgpu: reading a result back failed (${(e as Error).message.split("\n")[0]})`);
    }
    const copy = staging.getMappedRange(0, bytes).slice(0, n * 4);
    staging.unmap();
    this.stagingPool.release(staging);
    this.checkHealthy();
    return g.dtype === "f32" ? new Float32Array(copy) : new Int32Array(copy);
  }

  free(t: DeviceTensor): void {
    const g = gpuTensor(t);
    this.bytes -= g.byteLength;
    // The pool may destroy the buffer: recorded commands that use it must be submitted first.
    if (this.stream.pending) this.stream.flush();
    this.pool.release(g.buffer);
  }

  allocatedBytes(): number {
    return this.bytes;
  }

  /** A generated kernel, built once per backend and name. */
  kernel(name: string, build: () => Kernel): Kernel {
    let k = this.kernels.get(name);
    if (!k) this.kernels.set(name, (k = build()));
    return k;
  }

  /** Records one kernel dispatch (used by the ops and by attention/quant plugins' webgpu code). */
  dispatch(k: Kernel, params: readonly number[], bindings: readonly Binding[], workgroups: number): void {
    this.checkHealthy();
    this.stream.dispatch(k, params, bindings, workgroups);
  }

  /** Command buffers submitted so far (one per forward pass when the host only reads the logits). */
  get submits(): number {
    return this.stream.submits;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stream.destroy();
    this.pool.destroyAll();
    this.stagingPool.destroyAll();
    this.gpu.destroy();
    this.bytes = 0;
  }
}
