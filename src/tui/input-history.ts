/**
 * Earlier inputs for ↑/↓ recall, like a shell: ↑ walks back (remembering the unsent draft), ↓
 * walks forward and ends on the draft again. Consecutive duplicates are stored once.
 */
export class InputHistory {
  private readonly items: string[] = [];
  /** items.length means "at the draft". */
  private pos = 0;
  private draft = "";

  constructor(private readonly limit = 500) {}

  get size(): number {
    return this.items.length;
  }

  push(value: string): void {
    if (value.trim() !== "" && this.items[this.items.length - 1] !== value) {
      this.items.push(value);
      if (this.items.length > this.limit) this.items.shift();
    }
    this.pos = this.items.length;
    this.draft = "";
  }

  /** The input before the one shown (null: none older). `current` is kept as the draft when leaving it. */
  prev(current: string): string | null {
    if (this.pos === 0) return null;
    if (this.pos === this.items.length) this.draft = current;
    this.pos--;
    return this.items[this.pos]!;
  }

  /** The input after the one shown, ending on the draft (null: already at the draft). */
  next(): string | null {
    if (this.pos >= this.items.length) return null;
    this.pos++;
    return this.pos === this.items.length ? this.draft : this.items[this.pos]!;
  }
}
