import { readFileSync, readdirSync } from "node:fs";
import { modelPath } from "./models-dir.ts";

export interface Golden {
  name: string;
  prompt: string;
  prompt_ids: number[];
  generated_ids: number[];
  run_c_stdout: string;
  stopped_on_bos: boolean;
  new_tokens_requested: number;
  logits?: Array<{ pos: number; next_id: number; values: number[] }>;
}

export function goldenNames(): string[] {
  return readdirSync(modelPath("golden")).filter((f) => f.startsWith("stories260K_") && f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
}

export function readGolden(name: string): Golden {
  return JSON.parse(readFileSync(modelPath("golden", `${name}.json`), "utf8")) as Golden;
}
