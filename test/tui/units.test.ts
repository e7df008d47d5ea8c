import { describe, expect, it } from "vitest";
import { completeCommand, matchCommands } from "../../src/tui/commands.ts";
import { InputHistory } from "../../src/tui/input-history.ts";
import { LineEditor } from "../../src/tui/line-editor.ts";
import { parsePrometheusText, scrapeStats } from "../../src/tui/prometheus-text.ts";
import { apiBase } from "../../src/tui/remote-backend.ts";
import { readSseData } from "../../src/tui/sse-reader.ts";
import { wrapLines } from "../../src/tui/wrap.ts";

describe("wrapLines", () => {
  it("wraps at word boundaries, keeps newlines, cuts long words", () => {
    expect(wrapLines("the cat sat on the mat", 10)).toEqual(["the cat", "sat on the", "mat"]);
    expect(wrapLines("a\n\nb", 10)).toEqual(["a", "", "b"]);
    expect(wrapLines("abcdefghijkl", 5)).toEqual(["abcde", "fghij", "kl"]);
    expect(wrapLines("", 5)).toEqual([""]);
  });

  it("is stable under appending: every line but the last is final (seeded random text)", () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = "ab cdefg  hijk\nlmnopq rstuvwxyz ";
    for (const width of [1, 3, 7, 20]) {
      let text = "";
      let final: string[] = [];
      for (let i = 0; i < 400; i++) {
        text += alphabet[Math.floor(rnd() * alphabet.length)]!;
        const lines = wrapLines(text, width);
        const ok = final.every((l, j) => lines[j] === l) && lines.every((l) => [...l].length <= width);
        if (!ok) expect({ width, text, lines }).toEqual({ width, text, lines: [...final, "..."] });
        final = lines.slice(0, -1);
      }
    }
  });
});

describe("LineEditor", () => {
  it("edits at the cursor and kills words and lines", () => {
    const e = new LineEditor();
    e.insert("hello world");
    e.left(); e.left();
    e.backspace();
    expect(e.value).toBe("hello wold");
    e.home(); e.deleteForward();
    expect(e.value).toBe("ello wold");
    e.end(); e.killWord();
    expect(e.value).toBe("ello ");
    e.home(); e.right(); e.killToEnd();
    expect(e.value).toBe("e");
    e.end(); e.killToStart();
    expect([e.value, e.cursor]).toEqual(["", 0]);
  });

  it("splits text with line breaks into submitted lines", () => {
    const e = new LineEditor();
    e.insert("say: ");
    expect(e.typeText("hello\r\nsecond\rthi")).toEqual(["say: hello", "second"]);
    expect(e.value).toBe("thi");
  });
});

describe("InputHistory", () => {
  it("walks back and forth and returns to the draft", () => {
    const h = new InputHistory();
    expect(h.prev("x")).toBeNull();
    h.push("one"); h.push("two"); h.push("two"); h.push("   ");
    expect(h.size).toBe(2);
    expect(h.prev("draft")).toBe("two");
    expect(h.prev("two")).toBe("one");
    expect(h.prev("one")).toBeNull();
    expect(h.next()).toBe("two");
    expect(h.next()).toBe("draft");
    expect(h.next()).toBeNull();
  });
});

describe("slash command matching", () => {
  it("lists the commands a prefix matches and completes them", () => {
    expect(matchCommands("hello")).toEqual([]);
    expect(matchCommands("/").length).toBeGreaterThan(15);
    expect(matchCommands("/t").map((c) => c.name)).toEqual(["temp", "top_p", "top_k"]);
    expect(matchCommands("/temp 0.5").map((c) => c.name)).toEqual(["temp"]);
    expect(matchCommands("/quit").map((c) => c.name)).toEqual(["exit"]);
    expect(completeCommand("/te")).toBe("/temp ");
    expect(completeCommand("/top")).toBe("/top_");
    expect(completeCommand("/re")).toBe("/re");
    expect(completeCommand("/res")).toBe("/reset ");
  });
});

describe("remote helpers", () => {
  it("normalizes the API base URL", () => {
    expect(apiBase("http://h:1")).toBe("http://h:1/v1");
    expect(apiBase("http://h:1/v1/")).toBe("http://h:1/v1");
    expect(apiBase("https://x.org/api/v1")).toBe("https://x.org/api/v1");
  });

  it("reads SSE data split across chunks, CRLF or LF, skipping comments", async () => {
    const chunks = ["data: {\"a\"", ":1}\r\n\r\n: comment\n\ndata: x\ndata: y\n", "\ndata: [DONE]\n\n"];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const s of chunks) c.enqueue(new TextEncoder().encode(s));
        c.close();
      },
    });
    const got: string[] = [];
    for await (const d of readSseData(body)) got.push(d);
    expect(got).toEqual(['{"a":1}', "x\ny", "[DONE]"]);
  });

  it("scrapes KV usage and prefix hit rate from llm serve's and vLLM's metrics", () => {
    const llm = '# HELP x\nllm:kv_cache_usage_perc{model_name="m"} 0.25\nllm:prefix_cache_hit_rate{model_name="m"} 0.5\nllm:num_requests_running{model_name="m"} 1\n';
    expect(scrapeStats(llm)).toEqual({ kvCacheUsage: 0.25, prefixCacheHitRate: 0.5, numRunning: 1, numWaiting: null });
    const vllm = 'vllm:gpu_cache_usage_perc{a="b"} 0.1\nvllm:prefix_cache_hits_total{a="b"} 30\nvllm:prefix_cache_queries_total{a="b"} 120\n';
    expect(scrapeStats(vllm)).toMatchObject({ kvCacheUsage: 0.1, prefixCacheHitRate: 0.25 });
    expect(scrapeStats("nothing here")).toMatchObject({ kvCacheUsage: null, prefixCacheHitRate: null });
    expect(parsePrometheusText('a{x="1"} 1\na{x="2"} 2\nb +Inf\n').get("a")).toBe(3);
  });
});
