import { LlmError } from "../util/errors.ts";

/** The public hub; $HF_ENDPOINT overrides it (mirrors, or a local server in tests). */
export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";

/** One file of a repository as the hub's API lists it. */
export interface HubFile {
  path: string;
  size?: number;
  /** SHA-256 of the content: given for LFS files (weights), absent for small git files. */
  sha256?: string;
}

export interface RepoInfo {
  /** The commit the revision points to. */
  commit: string;
  files: HubFile[];
}

export interface HubClientOptions {
  endpoint?: string;
  token?: string;
  /** Abort each request after this many ms without a response (default 60 s). */
  timeoutMs?: number;
}

/** Talks to a Hugging Face hub (or a server in its URL layout): the model API and resolve URLs. */
export class HubClient {
  readonly endpoint: string;
  private readonly token: string | undefined;
  readonly timeoutMs: number;

  constructor(opts: HubClientOptions = {}) {
    this.endpoint = (opts.endpoint ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, "");
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token ? { ...extra, authorization: `Bearer ${this.token}` } : extra;
  }

  /** `GET /api/models/{repo}/revision/{rev}?blobs=true`: the commit and the files with sizes and sha256. */
  async repoInfo(repo: string, revision: string): Promise<RepoInfo> {
    const url = `${this.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
    const res = await this.get(url, {});
    if (!res.ok) throw await this.httpError(res, repo, revision);
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new LlmError(`${url}: the hub answered with something that is not JSON`);
    }
    const o = body as { sha?: unknown; siblings?: unknown };
    if (typeof o !== "object" || o === null || !Array.isArray(o.siblings)) throw new LlmError(`${url}: unexpected answer (no 'siblings' list)`);
    const commit = typeof o.sha === "string" && /^[0-9a-f]{40}$/.test(o.sha) ? o.sha : undefined;
    if (!commit) throw new LlmError(`${url}: unexpected answer (no commit 'sha')`);
    const files = (o.siblings as Record<string, unknown>[]).flatMap((s): HubFile[] => {
      if (typeof s?.rfilename !== "string") return [];
      const f: HubFile = { path: s.rfilename };
      const lfs = s.lfs as { sha256?: unknown; size?: unknown } | undefined;
      const size = typeof lfs?.size === "number" ? lfs.size : typeof s.size === "number" ? s.size : undefined;
      if (size !== undefined) f.size = size;
      if (typeof lfs?.sha256 === "string" && /^[0-9a-f]{64}$/.test(lfs.sha256)) f.sha256 = lfs.sha256;
      return [f];
    });
    return { commit, files };
  }

  resolveUrl(repo: string, commit: string, path: string): string {
    return `${this.endpoint}/${repo}/resolve/${commit}/${path.split("/").map(encodeURIComponent).join("/")}`;
  }

  /** A GET with auth and a timeout for the response head; network failures become LlmError naming the URL. */
  async get(url: string, headers: Record<string, string>): Promise<Response> {
    // The timeout covers waiting for the response head only, not streaming a large body.
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), this.timeoutMs);
    try {
      return await fetch(url, { headers: this.headers(headers), signal: ctrl.signal, redirect: "follow" });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = ctrl.signal.aborted ? `no answer in ${this.timeoutMs} ms` : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new LlmError(`cannot reach ${url}: ${why} (set HF_ENDPOINT, or use --offline to use the cache)`);
    } finally {
      clearTimeout(timer);
    }
  }

  async httpError(res: Response, repo: string, revision: string): Promise<LlmError> {
    await res.body?.cancel().catch(() => undefined);
    const errorCode = res.headers.get("x-error-code");
    if (res.status === 401 || res.status === 403) {
      return new LlmError(`${repo}: access denied (HTTP ${res.status}); the repository may be gated or private: set HF_TOKEN or pass --token`);
    }
    if (res.status === 404) {
      if (errorCode === "RevisionNotFound") return new LlmError(`${repo}: revision '${revision}' not found`);
      return new LlmError(`${repo}: repository not found on ${this.endpoint} (check the name; private repositories need HF_TOKEN or --token)`);
    }
    return new LlmError(`${repo}: the hub answered HTTP ${res.status} ${res.statusText}`);
  }
}
