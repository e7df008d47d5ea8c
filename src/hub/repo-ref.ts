import { UsageError } from "../util/errors.ts";

/** A model on the Hugging Face hub: `org/repo`, optionally one file of it, at a revision. */
export interface HubRef {
  repo: string;
  /** One file (a GGUF) instead of the whole model folder. */
  file?: string;
  /** Branch, tag or commit; default "main". */
  revision: string;
}

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$/;

/**
 * Parses `org/repo[:file][@revision]` (also `org/repo/path/to/file`; the `llm pull` argument and the part after hf:// in
 * models.yaml). Bad input throws a UsageError saying what is accepted.
 */
export function parseHubRef(text: string, revision?: string): HubRef {
  const usage = (why: string): never => {
    throw new UsageError(`invalid model reference '${text}': ${why}; accepted: org/repo, org/repo:file.gguf (or org/repo/file.gguf), org/repo@revision`);
  };
  let rest = text.trim();
  let rev = revision;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const r = rest.slice(at + 1);
    if (r.length === 0 || /[\s:]/.test(r) || r.includes("..")) usage(`bad revision '${r}'`);
    if (rev !== undefined && rev !== r) usage(`two revisions given ('${r}' and '${rev}')`);
    rev = r;
    rest = rest.slice(0, at);
  }
  let file: string | undefined;
  const colon = rest.indexOf(":");
  const segments = rest.split("/");
  if (colon >= 0 || segments.length > 2) {
    // org/repo:path/file.gguf, or the URL-like org/repo/path/file.gguf
    file = colon >= 0 ? rest.slice(colon + 1) : segments.slice(2).join("/");
    rest = colon >= 0 ? rest.slice(0, colon) : segments.slice(0, 2).join("/");
    if (file.length === 0) usage("empty file name after ':'");
    if (file.startsWith("/") || file.split("/").some((p) => p === ".." || p === "." || p === "") || file.includes("\\")) {
      usage(`bad file path '${file}' (a relative path inside the repository)`);
    }
  }
  const parts = rest.split("/");
  if (parts.length !== 2) usage("expected exactly one '/' between the organisation and the repository name");
  for (const p of parts) {
    if (!NAME.test(p!) || p!.includes("--") || p!.includes("..")) usage(`'${p}' is not a valid name (letters, digits, '-', '_', '.'; at most 96 characters)`);
  }
  const ref: HubRef = { repo: rest, revision: rev ?? "main" };
  if (file !== undefined) ref.file = file;
  return ref;
}

export function formatHubRef(ref: HubRef): string {
  return `${ref.repo}${ref.file !== undefined ? `:${ref.file}` : ""}${ref.revision !== "main" ? `@${ref.revision}` : ""}`;
}
