/// <reference types="@webgpu/types" />
import type { BufferPool } from "./buffer-pool.ts";
import type { WebGpuTensor } from "./tensor.ts";

/**
 * A WGSL compute kernel. Binding 0 is a uniform block of parameters, laid out as `paramTypes`
 * says (one 4-byte word each: u = u32, i = i32, f = f32); bindings 1.. are storage buffers in the
 * order the dispatch lists them. The entry point is `main`.
 */
export interface Kernel {
  readonly name: string;
  readonly code: string;
  readonly paramTypes: string;
}

export interface Binding {
  tensor: WebGpuTensor;
  /** True when the kernel writes it (declared read_write). */
  write?: boolean;
}

/** Bytes reserved per dispatch in the uniform arena (>= any minUniformBufferOffsetAlignment). */
const UNIFORM_SLOT = 256;
const ARENA_SLOTS = 4096;
/** Cached bind groups kept at most (a step of a 30-layer model records about 600 dispatches). */
const MAX_BIND_GROUPS = 8192;

/**
 * Records a step's work into one command encoder (one compute pass, reopened after copies) and
 * submits it as one command buffer when the host needs a result (read) or writes device memory.
 * Kernel parameters go into a host-side arena copied to one uniform buffer just before submit.
 */
export class CommandStream {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly arena = new ArrayBuffer(UNIFORM_SLOT * ARENA_SLOTS);
  private readonly arenaView = new DataView(this.arena);
  private slots = 0;
  private readonly uniforms: GPUBuffer;
  private recorded = 0;
  /** Bind groups by (kernel, uniform slot, buffers): a steady step records the same dispatches every time. */
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  /** Dispatches submitted so far (for tests and bench output). */
  submits = 0;

  constructor(private readonly device: GPUDevice, private readonly pool: BufferPool, private readonly maxWorkgroupsPerDim: number) {
    this.uniforms = device.createBuffer({ size: this.arena.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: "llm-uniform-arena" });
  }

  /** True when commands are recorded but not yet submitted. */
  get pending(): boolean {
    return this.recorded > 0;
  }

  private enc(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: "llm-step" });
    return this.encoder;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private pipeline(k: Kernel): GPUComputePipeline {
    let p = this.pipelines.get(k.name);
    if (!p) {
      const module = this.device.createShaderModule({ code: k.code, label: k.name });
      p = this.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" }, label: k.name });
      this.pipelines.set(k.name, p);
    }
    return p;
  }

  /** Records one dispatch of `workgroups` workgroups (split over x and y when above the per-dimension limit). */
  dispatch(k: Kernel, params: readonly number[], bindings: readonly Binding[], workgroups: number): void {
    if (workgroups <= 0) return;
    if (params.length !== k.paramTypes.length) throw new Error(`kernel ${k.name}: ${params.length} params, expects ${k.paramTypes.length}`);
    if (this.slots === ARENA_SLOTS) this.flush();
    // A buffer bound writable cannot also be bound read-only in the same dispatch: read a copy.
    const temps: GPUBuffer[] = [];
    const buffers = bindings.map((b) => b.tensor.buffer);
    bindings.forEach((b, i) => {
      if (b.write) return;
      if (!bindings.some((o) => o.write && o.tensor.buffer === b.tensor.buffer)) return;
      const copy = this.pool.acquire(b.tensor.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
      this.copy(b.tensor.buffer, 0, copy, 0, b.tensor.byteLength);
      buffers[i] = copy;
      temps.push(copy);
    });
    const slot = this.slots++;
    const base = slot * UNIFORM_SLOT;
    for (let i = 0; i < params.length; i++) {
      const t = k.paramTypes[i];
      if (t === "f") this.arenaView.setFloat32(base + 4 * i, params[i]!, true);
      else if (t === "i") this.arenaView.setInt32(base + 4 * i, params[i]!, true);
      else this.arenaView.setUint32(base + 4 * i, params[i]!, true);
    }
    const pipeline = this.pipeline(k);
    const key = `${k.name}|${slot}|${buffers.map((b) => this.bufferId(b)).join(",")}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniforms, offset: base, size: Math.max(16, Math.ceil((4 * params.length) / 16) * 16) } }];
      buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
      group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      if (this.bindGroups.size >= MAX_BIND_GROUPS) this.bindGroups.clear();
      this.bindGroups.set(key, group);
    }
    if (!this.pass) this.pass = this.enc().beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, group);
    const x = Math.min(workgroups, this.maxWorkgroupsPerDim);
    this.pass.dispatchWorkgroups(x, Math.ceil(workgroups / x));
    this.recorded++;
    // Commands run in order, so the copies can go back to the pool for later commands at once.
    for (const t of temps) this.pool.release(t);
  }

  private bufferId(b: GPUBuffer): number {
    let id = this.bufferIds.get(b);
    if (id === undefined) this.bufferIds.set(b, (id = this.nextBufferId++));
    return id;
  }

  /** Forgets the bind groups that use a buffer about to be destroyed. */
  forget(b: GPUBuffer): void {
    const id = this.bufferIds.get(b);
    if (id === undefined) return;
    const tag = String(id);
    for (const key of this.bindGroups.keys()) if (key.slice(key.lastIndexOf("|") + 1).split(",").includes(tag)) this.bindGroups.delete(key);
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.enc().copyBufferToBuffer(src, srcOffset, dst, dstOffset, Math.ceil(bytes / 4) * 4);
    this.recorded++;
  }

  clear(buffer: GPUBuffer): void {
    this.endPass();
    this.enc().clearBuffer(buffer);
    this.recorded++;
  }

  /** Submits everything recorded as one command buffer (parameters uploaded first). */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.slots > 0) this.device.queue.writeBuffer(this.uniforms, 0, this.arena, 0, this.slots * UNIFORM_SLOT);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.slots = 0;
    this.recorded = 0;
    this.submits++;
  }

  destroy(): void {
    this.bindGroups.clear();
    this.encoder = null;
    this.pass = null;
    this.uniforms.destroy();
  }
}
