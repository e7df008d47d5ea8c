import type { LoadProgress } from "../loader/types.ts";

/**
 * A loading progress bar on stderr, drawn only for large files (default 32 MiB and up) and only
 * when stderr is a terminal; throttled to ~10 redraws a second.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr, minBytes = 32 * 1024 * 1024) {
  let last = 0;
  let drawn = false;
  return {
    update(p: LoadProgress): void {
      if (p.total < minBytes || !stream.isTTY) return;
      const now = Date.now();
      if (now - last < 100 && p.loaded < p.total) return;
      last = now;
      const width = 30;
      const frac = p.total ? p.loaded / p.total : 1;
      const fill = Math.round(frac * width);
      const mib = (b: number) => (b / 1048576).toFixed(0);
      stream.write(`\r${label} [${"#".repeat(fill)}${"-".repeat(width - fill)}] ${mib(p.loaded)}/${mib(p.total)} MiB`);
      drawn = true;
    },
    done(): void {
      if (drawn) stream.write("\r\x1b[K");
    },
  };
}
