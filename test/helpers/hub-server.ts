import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative } from "node:path";

/** One request the server saw. */
export interface SeenRequest {
  method: string;
  path: string;
  range: string | undefined;
  authorization: string | undefined;
}

export interface HubServerOptions {
  /** Folder holding `org/repo/<files>`. */
  root: string;
  /** The commit every repository is at. */
  commit?: string;
  /** Files (repo-relative, e.g. "org/repo/model.safetensors") whose body is cut after this many bytes, the first N times. */
  dropAfter?: Map<string, { bytes: number; times: number }>;
  /** Files served with their bytes altered (same size), the first N times. */
  corrupt?: Map<string, number>;
  /** When set, requests must carry `Authorization: Bearer <token>` (else 401). */
  token?: string;
  /** Files at least this large are listed as LFS files with sha256 (default 64 bytes). */
  lfsThreshold?: number;
}

/**
 * A local stand-in for the Hugging Face hub on 127.0.0.1 (random port), serving a folder in the
 * hub's URL layout: `GET /api/models/{org}/{repo}/revision/{rev}` (siblings with size and, for
 * "LFS" files, lfs.sha256) and `GET /{org}/{repo}/resolve/{rev}/{file}` with ETag /
 * X-Linked-Etag / X-Repo-Commit headers and Range support. Faults are injected per file for a
 * bounded number of requests, so every test's request loop ends by itself.
 */
export class HubServer {
  readonly requests: SeenRequest[] = [];
  readonly commit: string;
  private server: Server | undefined;
  endpoint = "";

  constructor(private readonly opts: HubServerOptions) {
    this.commit = opts.commit ?? "0123456789abcdef0123456789abcdef01234567";
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.endpoint = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private listFiles(repoDir: string): string[] {
    const out: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else out.push(relative(repoDir, p).split("\\").join("/"));
      }
    };
    walk(repoDir);
    return out.sort();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://x");
    const path = decodeURIComponent(url.pathname);
    this.requests.push({ method: req.method ?? "", path, range: req.headers.range, authorization: req.headers.authorization });
    if (this.opts.token !== undefined && req.headers.authorization !== `Bearer ${this.opts.token}`) {
      res.writeHead(401, { "content-type": "application/json", "x-error-code": "GatedRepo" }).end('{"error":"auth"}');
      return;
    }
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(path);
    if (api) return this.api(api[1]!, api[2]!, res);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolve) return this.resolve(resolve[1]!, resolve[3]!, req, res);
    res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
  }

  private repoDir(repo: string): string | undefined {
    const d = join(this.opts.root, repo);
    try {
      return statSync(d).isDirectory() ? d : undefined;
    } catch {
      return undefined;
    }
  }

  private api(repo: string, revision: string, res: ServerResponse): void {
    const dir = this.repoDir(repo);
    if (!dir) {
      res.writeHead(404, { "content-type": "application/json", "x-error-code": "RepoNotFound" }).end('{"error":"Repository not found"}');
      return;
    }
    if (revision !== "main" && revision !== this.commit) {
      res.writeHead(404, { "content-type": "application/json", "x-error-code": "RevisionNotFound" }).end('{"error":"Invalid rev id"}');
      return;
    }
    const siblings = this.listFiles(dir).map((f) => {
      const bytes = readFileSync(join(dir, f));
      const entry: Record<string, unknown> = { rfilename: f, size: bytes.length };
      if (bytes.length >= (this.opts.lfsThreshold ?? 64)) {
        entry.lfs = { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length, pointerSize: 134 };
      }
      return entry;
    });
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: repo, sha: this.commit, siblings }));
  }

  private resolve(repo: string, file: string, req: IncomingMessage, res: ServerResponse): void {
    const dir = this.repoDir(repo);
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir ?? "/nonexistent", file));
    } catch {
      res.writeHead(404, { "x-error-code": "EntryNotFound" }).end("Entry not found");
      return;
    }
    const key = `${repo}/${file}`;
    const corrupt = this.opts.corrupt?.get(key) ?? 0;
    if (corrupt > 0) {
      this.opts.corrupt!.set(key, corrupt - 1);
      bytes = Buffer.from(bytes);
      bytes[bytes.length >> 1] ^= 0xff;
    }
    const sha = createHash("sha256").update(readFileSync(join(dir!, file))).digest("hex");
    const headers: Record<string, string> = { etag: `"${sha}"`, "x-linked-etag": `"${sha}"`, "x-repo-commit": this.commit, "accept-ranges": "bytes" };
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (m) {
      start = Number(m[1]);
      if (start >= bytes.length) {
        res.writeHead(416, { "content-range": `bytes */${bytes.length}` }).end();
        return;
      }
      headers["content-range"] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    }
    const body = bytes.subarray(start);
    headers["content-length"] = String(body.length);
    res.writeHead(m ? 206 : 200, headers);
    const drop = this.opts.dropAfter?.get(key);
    if (drop && drop.times > 0) {
      drop.times--;
      // Drop the connection a moment after the first bytes went out (Bun discards data that a reset overtakes).
      res.write(body.subarray(0, drop.bytes), () => setTimeout(() => res.destroy(), 50));
      return;
    }
    res.end(body);
  }
}
