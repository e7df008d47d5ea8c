import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT, testModelsDir } from "./models-dir.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Run the real `llm` command (bin/llm.js) under the current runtime (node via tsx under vitest,
 * bun under bun test) with the shared models directory.
 */
export function runCli(args: string[], opts: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "llm.js"), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, LLM_MODELS_DIR: testModelsDir(), ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 });
    });
    child.stdin.end(opts.stdin ?? "");
  });
}
