import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { HubServer } from "../helpers/hub-server.ts";

// `llm pull` end to end: the real CLI against a local hub on 127.0.0.1.
const root = mkdtempSync(join(tmpdir(), "llm-pull-cli-"));
const weights = randomBytes(200_000);
let server: HubServer;

beforeAll(async () => {
  const repo = join(root, "served", "acme", "tiny-llm");
  mkdirSync(repo, { recursive: true });
  writeFileSync(join(repo, "config.json"), "{}");
  writeFileSync(join(repo, "model.safetensors"), weights);
  server = await new HubServer({ root: join(root, "served"), dropAfter: new Map([["acme/tiny-llm/model.safetensors", { bytes: 50_000, times: 1 }]]) }).start();
});
afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("llm pull", () => {
  it("downloads (resuming a dropped connection), prints the folder, then works offline", async () => {
    const env = { HF_ENDPOINT: server.endpoint, LLM_CACHE_DIR: join(root, "cache") };
    const r = await runCli(["pull", "acme/tiny-llm"], { env });
    expect(r.code, r.stderr).toBe(0);
    const path = r.stdout.trim();
    expect(readFileSync(join(path, "model.safetensors")).equals(weights)).toBe(true);
    expect(r.stderr).toContain("resuming");
    expect(r.stderr).toContain("downloading model.safetensors");
    expect(r.stderr).toMatch(/2 downloaded, 0 already cached/);
    const off = await runCli(["pull", "acme/tiny-llm", "--offline", "--json"], { env: { LLM_CACHE_DIR: join(root, "cache") } });
    expect(off.code, off.stderr).toBe(0);
    expect(JSON.parse(off.stdout.trim().split("\n").at(-1)!)).toMatchObject({ path, downloaded: [] });
  });

  it("exits 1 with one line for a missing repository or an offline miss, 2 for a bad name", async () => {
    const env = { HF_ENDPOINT: server.endpoint, LLM_CACHE_DIR: join(root, "cache2") };
    const missing = await runCli(["pull", "acme/nope"], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^llm: error: acme\/nope: repository not found/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const offline = await runCli(["pull", "acme/tiny-llm"], { env: { ...env, HF_HUB_OFFLINE: "1" } });
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain("offline: acme/tiny-llm is not in the cache");
    const bad = await runCli(["pull", "not-a-repo"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("invalid model reference 'not-a-repo'");
  });
});
