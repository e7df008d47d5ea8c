import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ModelFileError } from "../../util/errors.ts";
import { errnoCode, readFileBytes } from "../read-file.ts";
import type { ProgressCallback } from "../types.ts";
import { parseSafetensors, type SafetensorsTensor } from "./parse.ts";

export const SAFETENSORS_SINGLE = "model.safetensors";
export const SAFETENSORS_INDEX = "model.safetensors.index.json";

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return false;
    throw e;
  }
}

/** The shard file names of an index's weight_map (each tensor → shard), validated. */
export function shardsOfIndex(indexPath: string, json: unknown): { weightMap: Map<string, string>; shards: string[] } {
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== "object" || wm === null || Array.isArray(wm)) throw new ModelFileError(indexPath, "missing 'weight_map' object (tensor name → shard file)");
  const weightMap = new Map<string, string>();
  for (const [name, shard] of Object.entries(wm)) {
    if (typeof shard !== "string" || shard.includes("/") || shard.includes("\\") || shard === "" || shard.startsWith(".")) {
      throw new ModelFileError(indexPath, `weight_map['${name}'] must be a shard file name in the same folder, got ${JSON.stringify(shard)}`);
    }
    weightMap.set(name, shard);
  }
  if (weightMap.size === 0) throw new ModelFileError(indexPath, "weight_map is empty");
  return { weightMap, shards: [...new Set(weightMap.values())] };
}

/**
 * All tensors of a Hugging Face folder's weights: model.safetensors, or the shards that
 * model.safetensors.index.json names. Each file is read once into memory; tensors are views.
 */
export async function loadSafetensorsWeights(dir: string, onProgress?: ProgressCallback): Promise<Map<string, SafetensorsTensor>> {
  const indexPath = join(dir, SAFETENSORS_INDEX);
  let files: string[];
  let weightMap: Map<string, string> | null = null;
  if (await exists(indexPath)) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(indexPath, "utf8"));
    } catch (e) {
      throw new ModelFileError(indexPath, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    const idx = shardsOfIndex(indexPath, json);
    weightMap = idx.weightMap;
    files = idx.shards;
    for (const f of files) if (!(await exists(join(dir, f)))) throw new ModelFileError(indexPath, `shard '${f}' named in weight_map is missing from the folder`);
  } else if (await exists(join(dir, SAFETENSORS_SINGLE))) {
    files = [SAFETENSORS_SINGLE];
  } else {
    throw new ModelFileError(dir, `no weights: a model folder needs ${SAFETENSORS_SINGLE} or ${SAFETENSORS_INDEX} with its shards`);
  }
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(dir, f))).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  const out = new Map<string, SafetensorsTensor>();
  for (let i = 0; i < files.length; i++) {
    const path = join(dir, files[i]!);
    const bytes = await readFileBytes(path, onProgress ? (p) => onProgress({ loaded: done + p.loaded, total }) : undefined);
    done += sizes[i]!;
    const st = parseSafetensors(path, bytes);
    for (const [name, t] of st.tensors) {
      if (weightMap && weightMap.get(name) !== files[i]) {
        throw new ModelFileError(path, `holds tensor '${name}' which ${SAFETENSORS_INDEX} places ${weightMap.has(name) ? `in '${weightMap.get(name)}'` : "nowhere"}`);
      }
      out.set(name, t);
    }
  }
  if (weightMap) {
    for (const [name, shard] of weightMap) if (!out.has(name)) throw new ModelFileError(join(dir, shard), `missing tensor '${name}' that ${SAFETENSORS_INDEX} places there`);
  }
  return out;
}
