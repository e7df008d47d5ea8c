/**
 * `llm quantize`: rewrite a model as a GGUF whose 2-D weights are in one GGML type. Metadata are
 * copied (general.file_type and general.quantization_version updated); 1-D tensors (norms) are
 * written F32. Rules for each 2-D weight, in order:
 *  - the output head (output.weight, or token_embd.weight when the head is tied) of a 4-bit target
 *    is Q6_K, or Q8_0 when its rows are not a multiple of 256, as llama.cpp does;
 *  - a k-quant whose row length is not a multiple of 256 falls back to the 32-block type of the
 *    same class: Q4_K → Q4_0, Q6_K → Q8_0 (llama.cpp picks Q5_0 for Q4_K; there is no Q5_0 here);
 *  - a 32-block type whose row length is not a multiple of 32 stays F32 (stories260K's ffn_down,
 *    rows of 172).
 */
import { ggmlTypeName, ggmlTypeInfo } from "../loader/gguf/ggml-types.ts";
import { dequantize } from "../loader/gguf/dequantize.ts";
import { GGUFValueType } from "../loader/gguf/parse.ts";
import { writeGGUFFile, type GGUFTensorSpec, type GGUFTypedValue } from "../loader/gguf/writer.ts";
import { GGMLType, type HostTensor, type ModelCheckpoint } from "../loader/types.ts";
import { UsageError } from "../util/errors.ts";
import { encodeGgml } from "./ggml/encode.ts";
import { typedMetadata } from "./gguf-metadata.ts";

export const QUANTIZE_TARGETS = { f16: GGMLType.F16, q8_0: GGMLType.Q8_0, q4_0: GGMLType.Q4_0, q4_k: GGMLType.Q4_K, q6_k: GGMLType.Q6_K } as const;
export type QuantizeTarget = keyof typeof QUANTIZE_TARGETS;

/** llama.cpp's llama_ftype of each target (general.file_type). */
const FILE_TYPE: Record<QuantizeTarget, number> = { f16: 1, q8_0: 7, q4_0: 2, q4_k: 14, q6_k: 18 };

export interface TensorPlan {
  name: string;
  dims: number[];
  from: GGMLType;
  to: GGMLType;
  /** Why `to` differs from the target type. */
  reason?: string;
}

export function parseQuantizeTarget(s: string): QuantizeTarget {
  const t = s.toLowerCase();
  if (!(t in QUANTIZE_TARGETS)) throw new UsageError(`unknown quantization type "${s}"; accepted: ${Object.keys(QUANTIZE_TARGETS).join(", ")}`);
  return t as QuantizeTarget;
}

function blockOf(t: GGMLType): number {
  return ggmlTypeInfo(t)!.blockSize;
}

/** The type each tensor of `ck` gets under `target`, with the reason for every exception. */
export function planQuantization(ck: ModelCheckpoint, target: QuantizeTarget): TensorPlan[] {
  const want = QUANTIZE_TARGETS[target];
  const headName = ck.tensors.has("output.weight") ? "output.weight" : "token_embd.weight";
  return [...ck.tensors.values()].map((t: HostTensor): TensorPlan => {
    const base = { name: t.name, dims: t.dims, from: t.type };
    if (t.dims.length !== 2) return { ...base, to: GGMLType.F32, ...(t.dims.length > 2 ? { reason: `${t.dims.length}-D tensor kept F32` } : {}) };
    const row = t.dims[0]!;
    let to: GGMLType = want;
    let reason: string | undefined;
    if (t.name === headName && (want === GGMLType.Q4_0 || want === GGMLType.Q4_K)) {
      to = row % 256 === 0 ? GGMLType.Q6_K : GGMLType.Q8_0;
      reason = `output head at ${ggmlTypeName(to)} (llama.cpp keeps the output tensor above 4 bits)`;
    }
    if (blockOf(to) === 256 && row % 256 !== 0) {
      const fb = to === GGMLType.Q4_K ? GGMLType.Q4_0 : GGMLType.Q8_0;
      reason = `row length ${row} is not a multiple of 256; ${ggmlTypeName(to)} → ${ggmlTypeName(fb)}`;
      to = fb;
    }
    if (row % blockOf(to) !== 0) {
      reason = `row length ${row} is not a multiple of ${blockOf(to)}; kept F32`;
      to = GGMLType.F32;
    }
    return { ...base, to, ...(reason ? { reason } : {}) };
  });
}

export interface QuantizeResult {
  bytes: number;
  plan: TensorPlan[];
}

/** Writes `ck` quantized to `target` at `outPath` (see the rules above). */
export async function quantizeCheckpoint(
  ck: ModelCheckpoint, target: QuantizeTarget, outPath: string,
  onProgress?: (p: { written: number; total: number; tensor: string; index: number; count: number }) => void,
): Promise<QuantizeResult> {
  const plan = planQuantization(ck, target);
  const md = (await typedMetadata(ck)).filter(([k]) => k !== "general.file_type" && k !== "general.quantization_version" && k !== "general.alignment");
  const extra: [string, GGUFTypedValue][] = [["general.file_type", { type: GGUFValueType.UINT32, value: FILE_TYPE[target] }]];
  if (target !== "f16") extra.push(["general.quantization_version", { type: GGUFValueType.UINT32, value: 2 }]);
  const tensors: GGUFTensorSpec[] = plan.map((p) => {
    const src = ck.tensors.get(p.name)!;
    let cached: Uint8Array | null = null;
    // Encoded when the writer reaches the tensor, so one float copy exists at a time.
    const data = { get raw(): Uint8Array { return (cached ??= encodeGgml(p.to, dequantize(src, ck.file))); } };
    return { name: p.name, type: p.to, dims: p.dims, data };
  });
  const { bytes } = await writeGGUFFile(outPath, { metadata: [...md, ...extra], tensors, ...(onProgress ? { onProgress } : {}) });
  return { bytes, plan };
}
