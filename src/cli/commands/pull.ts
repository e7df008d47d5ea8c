import { Command } from "commander";
import { hubCacheDir, offlineFromEnv } from "../../hub/cache-dir.ts";
import { downloadProgress } from "../../hub/progress.ts";
import { pullModel } from "../../hub/pull.ts";
import { parseHubRef } from "../../hub/repo-ref.ts";

interface PullOpts {
  revision?: string;
  cacheDir?: string;
  token?: string;
  offline?: boolean;
  json?: boolean;
}

/** `llm pull org/repo[:file][@revision]`: download a model from the Hugging Face hub into the cache. */
export function pullCommand(): Command {
  return new Command("pull")
    .description("download a model from the Hugging Face hub into the local cache (resumable, sha256-verified)")
    .argument("<model>", "org/repo (a safetensors model folder), org/repo:file.gguf (one file), optionally @revision")
    .option("--revision <rev>", "branch, tag or commit (default main)")
    .option("--cache-dir <dir>", "cache directory (default $LLM_CACHE_DIR, else $XDG_CACHE_HOME/llm/hub or ~/.cache/llm/hub)")
    .option("--token <token>", "hub access token for gated or private repositories (default $HF_TOKEN)")
    .option("--offline", "only look in the cache, never the network (also HF_HUB_OFFLINE=1)")
    .option("--json", "print {path, commit, files, downloaded} as JSON on the last line")
    .addHelpText("after", `
The hub is $HF_ENDPOINT (default the public Hugging Face hub). The local path is printed on stdout;
progress goes to stderr. An interrupted pull resumes where it stopped when run again.

Examples:
  llm pull HuggingFaceTB/SmolLM2-135M-Instruct
  llm pull Qwen/Qwen3-0.6B-GGUF:Qwen3-0.6B-Q8_0.gguf
  llm pull meta-llama/Llama-3.2-1B-Instruct --token hf_...
  HF_HUB_OFFLINE=1 llm pull HuggingFaceTB/SmolLM2-135M-Instruct   (the cached path, no network)`)
    .action(async (model: string, o: PullOpts) => {
      const ref = parseHubRef(model, o.revision);
      const bar = downloadProgress();
      const token = o.token ?? process.env.HF_TOKEN;
      const r = await pullModel(ref, {
        cacheDir: hubCacheDir(o.cacheDir),
        offline: o.offline === true || offlineFromEnv(),
        ...(process.env.HF_ENDPOINT ? { endpoint: process.env.HF_ENDPOINT } : {}),
        ...(token ? { token } : {}),
        onProgress: (p) => bar.update(p),
        log: (line) => process.stderr.write(`llm pull: ${line}\n`),
      });
      bar.done();
      const cached = r.files.length - r.downloaded.length;
      process.stderr.write(`llm pull: ${ref.repo}@${r.commit.slice(0, 12)}: ${r.downloaded.length} downloaded, ${cached} already cached\n`);
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${r.path}\n`);
    });
}
