/**
 * The input line's text and cursor, edited in place. The ink component keeps one instance in a
 * ref and re-renders after each key, so a key handler never sees a stale value, however fast keys
 * arrive (a paste, tmux send-keys, a test writing to stdin).
 */
export class LineEditor {
  value = "";
  /** Cursor position in code units, 0..value.length. */
  cursor = 0;

  set(value: string): void {
    this.value = value;
    this.cursor = value.length;
  }

  insert(text: string): void {
    this.value = this.value.slice(0, this.cursor) + text + this.value.slice(this.cursor);
    this.cursor += text.length;
  }

  /** Delete the character before the cursor. */
  backspace(): void {
    if (this.cursor === 0) return;
    this.value = this.value.slice(0, this.cursor - 1) + this.value.slice(this.cursor);
    this.cursor--;
  }

  /** Delete the character under the cursor. */
  deleteForward(): void {
    this.value = this.value.slice(0, this.cursor) + this.value.slice(this.cursor + 1);
  }

  left(): void {
    this.cursor = Math.max(0, this.cursor - 1);
  }

  right(): void {
    this.cursor = Math.min(this.value.length, this.cursor + 1);
  }

  home(): void {
    this.cursor = 0;
  }

  end(): void {
    this.cursor = this.value.length;
  }

  /** Ctrl+U: delete from the start of the line to the cursor. */
  killToStart(): void {
    this.value = this.value.slice(this.cursor);
    this.cursor = 0;
  }

  /** Ctrl+K: delete from the cursor to the end. */
  killToEnd(): void {
    this.value = this.value.slice(0, this.cursor);
  }

  /** Ctrl+W: delete the word before the cursor. */
  killWord(): void {
    const before = this.value.slice(0, this.cursor).replace(/\S+\s*$/, "");
    this.value = before + this.value.slice(this.cursor);
    this.cursor = before.length;
  }

  /**
   * Type text that may hold line breaks (a paste, or keys and Enter in one chunk): returns the
   * completed lines to submit (text before each break, joined with what was typed before it),
   * leaving the text after the last break in the editor.
   */
  typeText(text: string): string[] {
    const parts = text.replace(/\r\n?/g, "\n").split("\n");
    const done: string[] = [];
    for (let i = 0; i < parts.length - 1; i++) {
      this.insert(parts[i]!);
      done.push(this.value);
      this.set("");
    }
    this.insert(parts[parts.length - 1]!);
    return done;
  }
}
