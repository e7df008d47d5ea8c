import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, testModelsDir } from "../helpers/models-dir.ts";
import { SLOW } from "./helpers.ts";

const HAS_TMUX = spawnSync("tmux", ["-V"]).status === 0;
if (!HAS_TMUX) console.warn("test/tui/tmux-e2e.test.ts: SKIPPED: tmux is not installed (apt-get install -y tmux)");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** One `llm chat` in a detached tmux session of 100x30: send keys, read the screen (and its scrollback). */
class TmuxChat {
  readonly name = `llm-chat-e2e-${process.pid}-${Date.now()}`;
  constructor(args: string[]) {
    const cmd = `cd ${q(REPO_ROOT)} && LLM_MODELS_DIR=${q(testModelsDir())} exec ${q(process.execPath)} bin/llm.js chat ${args.map(q).join(" ")}`;
    const r = spawnSync("tmux", ["new-session", "-d", "-s", this.name, "-x", "100", "-y", "30", cmd]);
    if (r.status !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
  }
  screen(history = true): string {
    const r = spawnSync("tmux", ["capture-pane", "-p", "-t", this.name, ...(history ? ["-S", "-2000"] : [])], { encoding: "utf8" });
    return r.status === 0 ? r.stdout : "";
  }
  alive(): boolean {
    return spawnSync("tmux", ["has-session", "-t", this.name]).status === 0;
  }
  keys(...keys: string[]): void {
    spawnSync("tmux", ["send-keys", "-t", this.name, ...keys]);
  }
  /** Type text literally, then Enter. */
  line(text: string): void {
    this.keys("-l", text);
    this.keys("Enter");
  }
  async until(pred: (screen: string) => boolean, what: string, timeoutMs = 60_000, pollMs = 50): Promise<string> {
    const t0 = Date.now();
    for (;;) {
      const s = this.screen();
      if (pred(s)) return s;
      if (Date.now() - t0 > timeoutMs || !this.alive()) throw new Error(`tmux: timed out waiting for ${what}; screen:\n${s}`);
      await sleep(pollMs);
    }
  }
  kill(): void {
    spawnSync("tmux", ["kill-session", "-t", this.name]);
  }
}

const count = (s: string, sub: string) => s.split(sub).length - 1;
const FOOTER = /\d+ tokens · [\d.]+ tok\/s · TTFT \d+ ms/g;

describe("llm chat in a real terminal (tmux)", () => {
  it.skipIf(!HAS_TMUX)("two turns, Ctrl+C in the middle of a reply, /reset, another turn, /exit", async () => {
    const t = new TmuxChat(["stories260k", "--temperature", "0", "--max-tokens", "200", "--ignore-eos"]);
    try {
      await t.until((s) => s.includes("llm chat · stories260k (local)") && /idle │ .* KV 0\.0%/.test(s), "the chat to start", 90_000);
      // Turn 1: a whole reply, streamed, with its footer and the status bar's figures.
      t.line("hello");
      let s = await t.until((x) => count(x, "tokens · ") >= 1 && /idle │ tok\/s [\d.]+/.test(x), "the first reply");
      expect(s).toContain("you › hello");
      expect(s).toMatch(/stories260k › \S/);
      expect(s).toMatch(/idle │ tok\/s [\d.]+ │ TTFT \d+ ms │ ctx \d+\/512 │ KV [\d.]+% │ prefix hit [\d.]+%/);
      // Turn 2: interrupt it once it is streaming.
      t.line("Once upon a time");
      // Wait for a few words of it on the screen (the reply is 200 tokens: about a second or two).
      const partial = (x: string) => (x.split("you › Once upon a time")[1] ?? "").split(">")[0]!.replace(/\s+/g, " ").length;
      await t.until((x) => /generating │ tok\/s [\d.]+/.test(x) && partial(x) >= 40, "the second reply to stream", 60_000, 20);
      t.keys("C-c");
      s = await t.until((x) => x.includes("· stopped"), "the stop");
      const stopped = /(\d+) tokens · [^\n]*· stopped/.exec(s)!;
      expect(Number(stopped[1])).toBeGreaterThan(5);
      expect(Number(stopped[1])).toBeLessThan(200);
      expect(s).toContain("stopped the reply (Ctrl+C twice to quit)");
      expect(t.alive()).toBe(true);
      // The second turn's prompt held the first one: its prefix came from the cache.
      expect(s).toMatch(/\d+ prompt tokens cached · stopped/);
      // /reset, then a fresh turn: the context in use is back to one exchange.
      t.line("/reset");
      await t.until((x) => x.includes("conversation reset"), "/reset");
      t.line("hello");
      s = await t.until((x) => (x.match(FOOTER) ?? []).length >= 3 && /idle │ tok\/s/.test(x.split("conversation reset")[1] ?? ""), "the third reply");
      expect(count(s, "you › hello")).toBe(2);
      // Greedy: the same opening gives the same reply as turn 1 (first line shown after each prompt).
      const after = (marker: string, from: number) => s.slice(s.indexOf(marker, from) + marker.length).split("\n")[1];
      expect(after("you › hello", s.indexOf("conversation reset"))).toBe(after("you › hello", 0));
      // Typing "/" lists commands; /exit quits.
      t.keys("-l", "/");
      await t.until((x) => x.includes("/help  this list"), "the command hints");
      t.keys("BSpace");
      t.line("/exit");
      const t0 = Date.now();
      while (t.alive() && Date.now() - t0 < 20_000) await sleep(100);
      expect(t.alive()).toBe(false);
    } finally {
      t.kill();
    }
  }, SLOW);
});
