import type { DownloadProgress } from "./download.ts";

const mib = (b: number): string => (b / 1048576).toFixed(1);

/**
 * Download progress on a stream (stderr): a redrawn bar per file on a terminal (~10 redraws a
 * second), plain lines otherwise (when a file starts, at each quarter, and when it ends).
 */
export function downloadProgress(stream: { write(s: string): unknown; isTTY?: boolean } = process.stderr) {
  let current = "";
  let last = 0;
  let quarter = -1;
  const tty = stream.isTTY === true;
  return {
    update(p: DownloadProgress): void {
      const total = p.total ?? 0;
      if (p.file !== current) {
        if (tty && current) stream.write("\n");
        current = p.file;
        quarter = -1;
        if (!tty) stream.write(`downloading ${p.file}${total ? ` (${mib(total)} MiB)` : ""}\n`);
      }
      const frac = total ? p.loaded / total : 0;
      if (tty) {
        const now = Date.now();
        if (now - last < 100 && p.loaded !== total) return;
        last = now;
        const width = 30;
        const fill = Math.round(frac * width);
        stream.write(`\r${p.file} [${"#".repeat(fill)}${"-".repeat(width - fill)}] ${mib(p.loaded)}/${total ? mib(total) : "?"} MiB\x1b[K`);
      } else if (total) {
        const q = Math.floor(frac * 4);
        if (q > quarter && q > 0) {
          quarter = q;
          stream.write(`${p.file}: ${q * 25}% (${mib(p.loaded)}/${mib(total)} MiB)\n`);
        }
      }
    },
    done(): void {
      if (tty && current) stream.write("\n");
    },
  };
}
