/// <reference types="@webgpu/types" />

/** Sizes are rounded up to this many bytes so buffers of nearly equal sizes are shared. */
const GRANULE = 256;

/**
 * Reuses GPU buffers by (rounded) size and usage. Freed buffers go back to the pool instead of
 * being destroyed; the queue executes commands in order, so a buffer freed while recorded
 * commands still use it can be handed out again to later commands safely. (Host writes through
 * queue.writeBuffer are ordered by the backend, which submits recorded work before writing.)
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private idleBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxIdleBytes = 256 << 20,
    /** Called before a buffer is destroyed (the command stream drops bind groups that use it). */
    private readonly onDestroy: (b: GPUBuffer) => void = () => {},
  ) {}

  static roundSize(bytes: number): number {
    return Math.max(GRANULE, Math.ceil(bytes / GRANULE) * GRANULE);
  }

  acquire(bytes: number, usage: GPUBufferUsageFlags, label?: string): GPUBuffer {
    const size = BufferPool.roundSize(bytes);
    const list = this.free.get(`${usage}:${size}`);
    const reused = list?.pop();
    if (reused) {
      this.idleBytes -= size;
      return reused;
    }
    return this.device.createBuffer({ size, usage, label });
  }

  release(buffer: GPUBuffer): void {
    if (this.idleBytes + buffer.size > this.maxIdleBytes) {
      this.onDestroy(buffer);
      buffer.destroy();
      return;
    }
    const key = `${buffer.usage}:${buffer.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
    this.idleBytes += buffer.size;
  }

  /** Bytes held idle for reuse. */
  idle(): number {
    return this.idleBytes;
  }

  destroyAll(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.idleBytes = 0;
  }
}
