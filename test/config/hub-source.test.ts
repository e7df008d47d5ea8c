import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureHubModel } from "../../src/config/hub-source.ts";
import { entryFilesPresent, resolveModelSpec } from "../../src/config/model-spec.ts";
import { parseModelRegistry } from "../../src/config/models-registry.ts";
import { HubServer } from "../helpers/hub-server.ts";

const root = mkdtempSync(join(tmpdir(), "llm-hf-src-"));
const cacheDir = join(root, "cache");
const gguf = Buffer.from("GGUF-bytes-for-the-test-".repeat(40));
let server: HubServer;
const savedCache = process.env.LLM_CACHE_DIR;

beforeAll(async () => {
  mkdirSync(join(root, "served", "acme", "tiny-gguf"), { recursive: true });
  writeFileSync(join(root, "served", "acme", "tiny-gguf", "tiny.gguf"), gguf);
  server = await new HubServer({ root: join(root, "served") }).start();
  process.env.LLM_CACHE_DIR = cacheDir; // resolveModelSpec looks into the default cache
});
afterAll(async () => {
  await server.stop();
  if (savedCache === undefined) delete process.env.LLM_CACHE_DIR;
  else process.env.LLM_CACHE_DIR = savedCache;
  rmSync(root, { recursive: true, force: true });
});

const REGISTRY = `models:
  - id: tiny
    source: hf://acme/tiny-gguf:tiny.gguf
    sampling: { temperature: 0.3 }
  - id: folder
    source: hf://acme/some-model@v2
  - id: missing
    source: hf://acme/nope:x.gguf
`;

describe("models.yaml hf:// sources", () => {
  const registry = parseModelRegistry(REGISTRY, "models.yaml");

  it("take their format from the reference when it is left out", () => {
    expect(registry.models.map((m) => m.format)).toEqual(["gguf", "hf", "gguf"]);
    expect(() => parseModelRegistry("models:\n  - id: x\n    source: hf://acme\n", "m.yaml")).toThrow(/m.yaml: model 'x': invalid model reference 'acme'/);
    expect(() => parseModelRegistry("models:\n  - id: x\n    source: hf://acme/r:weights.bin\n", "m.yaml")).toThrow(/missing required field 'format'/);
  });

  it("are pulled into the cache on first use, then resolve from it without the network", async () => {
    const spec = resolveModelSpec("tiny", registry, root);
    expect(spec.hub).toEqual({ repo: "acme/tiny-gguf", file: "tiny.gguf", revision: "main" });
    expect(spec.path).toBe("");
    expect(entryFilesPresent(spec).model).toBe(false);
    await ensureHubModel(spec, { LLM_CACHE_DIR: cacheDir, HF_ENDPOINT: server.endpoint });
    expect(readFileSync(spec.path).equals(gguf)).toBe(true);
    expect(spec.path.startsWith(join(cacheDir, "models--acme--tiny-gguf", "snapshots"))).toBe(true);

    const before = server.requests.length;
    const again = resolveModelSpec("tiny", registry, root);
    expect(again.path).toBe(spec.path);
    expect(entryFilesPresent(again).model).toBe(true);
    await ensureHubModel(again, { LLM_CACHE_DIR: cacheDir, HF_ENDPOINT: server.endpoint });
    expect(server.requests.length).toBe(before);
    expect(again.sampling).toEqual({ temperature: 0.3 });
  });

  it("fail clearly when offline and not cached, or when the hub has no such model", async () => {
    const spec = resolveModelSpec("missing", registry, root);
    await expect(ensureHubModel(spec, { LLM_CACHE_DIR: cacheDir, HF_HUB_OFFLINE: "1" })).rejects.toThrow(/offline: acme\/nope:x.gguf is not in the cache/);
    await expect(ensureHubModel(spec, { LLM_CACHE_DIR: cacheDir, HF_ENDPOINT: server.endpoint })).rejects.toThrow(/acme\/nope: repository not found/);
  });
});
