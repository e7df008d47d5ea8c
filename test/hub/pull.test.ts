import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hubCacheDir, repoCacheDir } from "../../src/hub/cache-dir.ts";
import { pullModel } from "../../src/hub/pull.ts";
import { parseHubRef } from "../../src/hub/repo-ref.ts";
import { LlmError, UsageError } from "../../src/util/errors.ts";
import { HubServer } from "../helpers/hub-server.ts";

const root = mkdtempSync(join(tmpdir(), "llm-hub-"));
const served = join(root, "served");
const weights = randomBytes(300_000);
let cacheN = 0;
const freshCache = (): string => join(root, `cache${cacheN++}`);

beforeAll(() => {
  const repo = join(served, "acme", "tiny-llm");
  mkdirSync(repo, { recursive: true });
  writeFileSync(join(repo, "config.json"), JSON.stringify({ architectures: ["LlamaForCausalLM"] }));
  writeFileSync(join(repo, "tokenizer.json"), JSON.stringify({ model: { type: "BPE", vocab: {}, merges: [] }, pad: "x".repeat(100) }));
  writeFileSync(join(repo, "generation_config.json"), JSON.stringify({ temperature: 0.6 }));
  writeFileSync(join(repo, "model.safetensors"), weights);
  writeFileSync(join(repo, "README.md"), "# not needed to run");
  writeFileSync(join(repo, "consolidated.safetensors"), "the same weights in Mistral's own layout");
  const gguf = join(served, "acme", "tiny-gguf");
  mkdirSync(gguf, { recursive: true });
  writeFileSync(join(gguf, "tiny-q8_0.gguf"), randomBytes(5000));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let server: HubServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});
async function serve(opts: Partial<ConstructorParameters<typeof HubServer>[0]> = {}): Promise<HubServer> {
  server = await new HubServer({ root: served, ...opts }).start();
  return server;
}

describe("llm pull (hub client against a local hub)", () => {
  it("pulls the files a model folder needs, verified, into the huggingface_hub cache layout", async () => {
    const s = await serve();
    const cacheDir = freshCache();
    const r = await pullModel(parseHubRef("acme/tiny-llm"), { cacheDir, endpoint: s.endpoint });
    expect(r.files.sort()).toEqual(["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"]);
    expect(r.downloaded.sort()).toEqual(r.files.sort());
    expect(r.path).toBe(join(repoCacheDir(cacheDir, "acme/tiny-llm"), "snapshots", s.commit));
    expect(readFileSync(join(r.path, "model.safetensors")).equals(weights)).toBe(true);
    expect(existsSync(join(r.path, "README.md"))).toBe(false);
    expect(existsSync(join(r.path, "consolidated.safetensors"))).toBe(false);
    expect(readFileSync(join(repoCacheDir(cacheDir, "acme/tiny-llm"), "refs", "main"), "utf8")).toBe(s.commit);
    // A second pull finds everything cached and verified: no file is fetched again.
    const before = s.requests.length;
    const again = await pullModel(parseHubRef("acme/tiny-llm"), { cacheDir, endpoint: s.endpoint });
    expect(again.downloaded).toEqual([]);
    expect(s.requests.slice(before).every((q) => q.path.startsWith("/api/"))).toBe(true);
  });

  it("resumes an interrupted download with a Range request and verifies the result", async () => {
    const s = await serve({ dropAfter: new Map([["acme/tiny-llm/model.safetensors", { bytes: 100_000, times: 1 }]]) });
    const log: string[] = [];
    const r = await pullModel(parseHubRef("acme/tiny-llm"), { cacheDir: freshCache(), endpoint: s.endpoint, log: (l) => log.push(l) });
    const gets = s.requests.filter((q) => q.path.endsWith("/model.safetensors"));
    expect(gets).toHaveLength(2);
    expect(gets[0]!.range).toBeUndefined();
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(gets[1]!.range ?? "")?.[1]);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThanOrEqual(100_000);
    expect(log.some((l) => l.includes("resuming"))).toBe(true);
    expect(readFileSync(join(r.path, "model.safetensors")).equals(weights)).toBe(true);
  });

  it("resumes a partial file left by an earlier run", async () => {
    const s = await serve();
    const cacheDir = freshCache();
    const snapshot = join(repoCacheDir(cacheDir, "acme/tiny-llm"), "snapshots", s.commit);
    mkdirSync(snapshot, { recursive: true });
    writeFileSync(join(snapshot, "model.safetensors.incomplete"), weights.subarray(0, 12_345));
    const r = await pullModel(parseHubRef("acme/tiny-llm"), { cacheDir, endpoint: s.endpoint });
    expect(s.requests.find((q) => q.path.endsWith("/model.safetensors"))?.range).toBe("bytes=12345-");
    expect(readFileSync(join(r.path, "model.safetensors")).equals(weights)).toBe(true);
    expect(existsSync(join(snapshot, "model.safetensors.incomplete"))).toBe(false);
  });

  it("detects a corrupted download by sha256 and fetches it again", async () => {
    const s = await serve({ corrupt: new Map([["acme/tiny-llm/model.safetensors", 1]]) });
    const log: string[] = [];
    const r = await pullModel(parseHubRef("acme/tiny-llm"), { cacheDir: freshCache(), endpoint: s.endpoint, log: (l) => log.push(l) });
    expect(s.requests.filter((q) => q.path.endsWith("/model.safetensors"))).toHaveLength(2);
    expect(log.join("\n")).toMatch(/sha256 .* does not match/);
    expect(readFileSync(join(r.path, "model.safetensors")).equals(weights)).toBe(true);
  });

  it("gives up with an error when the file stays corrupt", async () => {
    const s = await serve({ corrupt: new Map([["acme/tiny-llm/model.safetensors", 5]]) });
    await expect(pullModel(parseHubRef("acme/tiny-llm"), { cacheDir: freshCache(), endpoint: s.endpoint })).rejects.toThrow(/sha256 .* again after a fresh download/);
  });

  it("detects a corrupted cached file on the next pull and refetches it", async () => {
    const s = await serve();
    const cacheDir = freshCache();
    const r = await pullModel(parseHubRef("acme/tiny-llm"), { cacheDir, endpoint: s.endpoint });
    const bad = Buffer.from(weights);
    bad[7] ^= 1;
    writeFileSync(join(r.path, "model.safetensors"), bad);
    const again = await pullModel(parseHubRef("acme/tiny-llm"), { cacheDir, endpoint: s.endpoint });
    expect(again.downloaded).toEqual(["model.safetensors"]);
    expect(readFileSync(join(r.path, "model.safetensors")).equals(weights)).toBe(true);
  });

  it("works offline from the cache and says so when a model is not cached", async () => {
    const s = await serve();
    const cacheDir = freshCache();
    const online = await pullModel(parseHubRef("acme/tiny-gguf:tiny-q8_0.gguf"), { cacheDir, endpoint: s.endpoint });
    await s.stop();
    const offline = await pullModel(parseHubRef("acme/tiny-gguf:tiny-q8_0.gguf"), { cacheDir, offline: true });
    expect(offline.path).toBe(online.path);
    expect(offline.downloaded).toEqual([]);
    await expect(pullModel(parseHubRef("acme/tiny-llm"), { cacheDir, offline: true })).rejects.toThrow(/offline: acme\/tiny-llm is not in the cache .*llm pull acme\/tiny-llm/);
    await expect(pullModel(parseHubRef("acme/tiny-gguf:other.gguf"), { cacheDir, offline: true })).rejects.toThrow(/other\.gguf missing/);
  });

  it("reports a missing repository, a missing file and a GGUF-only repository clearly", async () => {
    const s = await serve();
    const cacheDir = freshCache();
    const err = await pullModel(parseHubRef("acme/nope"), { cacheDir, endpoint: s.endpoint }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect((err as LlmError).exitCode).toBe(1);
    expect((err as Error).message).toMatch(/acme\/nope: repository not found/);
    await expect(pullModel(parseHubRef("acme/tiny-llm@v9"), { cacheDir, endpoint: s.endpoint })).rejects.toThrow(/revision 'v9' not found/);
    await expect(pullModel(parseHubRef("acme/tiny-gguf:x.gguf"), { cacheDir, endpoint: s.endpoint })).rejects.toThrow(/no file 'x.gguf'.*tiny-q8_0.gguf/);
    await expect(pullModel(parseHubRef("acme/tiny-gguf"), { cacheDir, endpoint: s.endpoint })).rejects.toThrow(/no safetensors weights; pull one GGUF file: acme\/tiny-gguf:tiny-q8_0.gguf/);
  });

  it("sends the token and explains a 401", async () => {
    const s = await serve({ token: "hf_secret" });
    await expect(pullModel(parseHubRef("acme/tiny-llm"), { cacheDir: freshCache(), endpoint: s.endpoint })).rejects.toThrow(/access denied \(HTTP 401\).*HF_TOKEN/);
    const r = await pullModel(parseHubRef("acme/tiny-gguf:tiny-q8_0.gguf"), { cacheDir: freshCache(), endpoint: s.endpoint, token: "hf_secret" });
    expect(existsSync(r.path)).toBe(true);
    expect(s.requests.at(-1)?.authorization).toBe("Bearer hf_secret");
  });

  it("says which host it could not reach", async () => {
    const s = await serve();
    const endpoint = s.endpoint;
    await s.stop();
    await expect(pullModel(parseHubRef("acme/tiny-llm"), { cacheDir: freshCache(), endpoint })).rejects.toThrow(/cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/models\/acme\/tiny-llm/);
  });
});

describe("model references and the cache directory", () => {
  it("parses org/repo[:file][@revision]", () => {
    expect(parseHubRef("acme/tiny")).toEqual({ repo: "acme/tiny", revision: "main" });
    expect(parseHubRef("acme/tiny:sub/m.gguf@v1.0")).toEqual({ repo: "acme/tiny", file: "sub/m.gguf", revision: "v1.0" });
    expect(parseHubRef("acme/tiny/sub/m.gguf")).toEqual({ repo: "acme/tiny", file: "sub/m.gguf", revision: "main" });
  });

  for (const bad of ["tiny", "a//c", "acme/", "acme/ti ny", "acme/tiny:", "acme/tiny:../x", "acme/tiny@", "-acme/tiny"]) {
    it(`refuses '${bad}' with a usage error`, () => {
      expect(() => parseHubRef(bad)).toThrow(UsageError);
      expect(() => parseHubRef(bad)).toThrow(/accepted: org\/repo/);
    });
  }

  it("defaults under XDG_CACHE_HOME or ~/.cache, overridable by LLM_CACHE_DIR and the flag", () => {
    expect(hubCacheDir(undefined, { XDG_CACHE_HOME: "/x/cache" })).toBe(join("/x/cache", "llm", "hub"));
    expect(hubCacheDir(undefined, { XDG_CACHE_HOME: "/x/cache", LLM_CACHE_DIR: "/y" })).toBe("/y");
    expect(hubCacheDir("/z", { LLM_CACHE_DIR: "/y" })).toBe("/z");
    expect(hubCacheDir(undefined, {})).toMatch(/\.cache[\\/]llm[\\/]hub$/);
  });
});
