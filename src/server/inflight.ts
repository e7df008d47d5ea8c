/** The requests being generated, so shutdown can wait for them or abort them. */
export class Inflight {
  private readonly entries = new Map<string, { abort: () => void; done: Promise<void>; resolve: () => void }>();

  get size(): number {
    return this.entries.size;
  }

  /** Register a request; call the returned function when it has ended. */
  add(id: string, abort: () => void): () => void {
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.entries.set(id, { abort, done, resolve });
    return () => {
      this.entries.get(id)?.resolve();
      this.entries.delete(id);
    };
  }

  /** Wait up to `graceMs` for in-flight requests to finish, then abort the rest and wait for them to end. */
  async drain(graceMs: number): Promise<void> {
    const all = () => Promise.all([...this.entries.values()].map((e) => e.done));
    if (graceMs > 0 && this.entries.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([all(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    for (const e of [...this.entries.values()]) e.abort();
    await all();
  }
}
