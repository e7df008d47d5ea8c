import { createInterface } from "node:readline";
import type { ChatSession } from "./chat-session.ts";
import { executeCommand } from "./commands.ts";

export interface PipedIo {
  input: NodeJS.ReadableStream;
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
}

/**
 * `llm chat` without a terminal: each input line is a message (its reply streams to `out`, then a
 * newline) or a slash command. Command output the user asked for (/help, /stats) goes to `out`;
 * confirmations, notices and errors go to `err`, so `out` holds just the replies. Returns the
 * number of errors (failed replies, bad commands).
 */
export async function runPiped(session: ChatSession, io: PipedIo): Promise<number> {
  let errors = 0;
  const unsubscribe = session.subscribe((e) => {
    if (e.type === "delta") io.out.write(e.text);
  });
  const rl = createInterface({ input: io.input, crlfDelay: Infinity, terminal: false });
  try {
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === "") continue;
      if (line.startsWith("/")) {
        const r = await executeCommand(session, line);
        if (r.kind === "error") errors++;
        if (r.report) io.out.write(r.text + "\n");
        else io.err.write(`${r.kind === "error" ? "error: " : ""}${r.text}\n`);
        if (session.exitRequested) break;
        continue;
      }
      const seen = session.entries.length;
      const m = await session.send(line);
      if (m) io.out.write("\n");
      for (const e of session.entries.slice(seen)) {
        if (e.kind === "error") errors++;
        if (e.kind === "error" || e.kind === "info") io.err.write(`${e.kind === "error" ? "error: " : ""}${e.text}\n`);
      }
    }
  } finally {
    unsubscribe();
    rl.close();
  }
  return errors;
}
