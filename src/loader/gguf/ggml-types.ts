import { GGMLType } from "../types.ts";

/** Storage layout of one ggml tensor type: `typeSize` bytes hold `blockSize` consecutive elements. */
export interface GGMLTypeInfo {
  type: GGMLType;
  name: string;
  /** Elements per block (1 for plain types). */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

const QK = 32;
const QK_K = 256;

function info(type: GGMLType, blockSize: number, typeSize: number): GGMLTypeInfo {
  return { type, name: GGMLType[type], blockSize, typeSize };
}

/** Every type in GGMLType, as in ggml.c's type_traits. */
const TYPE_INFOS: ReadonlyMap<number, GGMLTypeInfo> = new Map(
  [
    info(GGMLType.F32, 1, 4),
    info(GGMLType.F16, 1, 2),
    info(GGMLType.BF16, 1, 2),
    info(GGMLType.Q4_0, QK, 2 + QK / 2),
    info(GGMLType.Q4_1, QK, 4 + QK / 2),
    info(GGMLType.Q5_0, QK, 2 + 4 + QK / 2),
    info(GGMLType.Q5_1, QK, 4 + 4 + QK / 2),
    info(GGMLType.Q8_0, QK, 2 + QK),
    info(GGMLType.Q8_1, QK, 4 + QK),
    info(GGMLType.Q2_K, QK_K, QK_K / 16 + QK_K / 4 + 4),
    info(GGMLType.Q3_K, QK_K, QK_K / 8 + QK_K / 4 + 12 + 2),
    info(GGMLType.Q4_K, QK_K, 4 + 12 + QK_K / 2),
    info(GGMLType.Q5_K, QK_K, 4 + 12 + QK_K / 8 + QK_K / 2),
    info(GGMLType.Q6_K, QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2),
    info(GGMLType.Q8_K, QK_K, 4 + QK_K + (QK_K / 16) * 2),
    info(GGMLType.I8, 1, 1),
    info(GGMLType.I16, 1, 2),
    info(GGMLType.I32, 1, 4),
    info(GGMLType.I64, 1, 8),
    info(GGMLType.F64, 1, 8),
  ].map((i) => [i.type as number, i]),
);

/** Layout of a ggml type id, or undefined for an id this engine does not know. */
export function ggmlTypeInfo(type: number): GGMLTypeInfo | undefined {
  return TYPE_INFOS.get(type);
}

/** The ggml name of a type id ("Q8_0"), or "type N" for an unknown id. */
export function ggmlTypeName(type: number): string {
  return TYPE_INFOS.get(type)?.name ?? `type ${type}`;
}

/** All known types, in table order. */
export function ggmlTypeInfos(): GGMLTypeInfo[] {
  return [...TYPE_INFOS.values()];
}

/** A tensor shape or size that cannot be stored (the caller adds the file and tensor name). */
export class TensorShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TensorShapeError";
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Number of elements of a tensor with ggml dims; throws TensorShapeError past 2^53 - 1. */
export function tensorNumel(dims: readonly number[]): number {
  let n = 1n;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new TensorShapeError(`invalid dimension ${d}`);
    n *= BigInt(d);
  }
  if (n > MAX_SAFE) {
    throw new TensorShapeError(`element count ${n} of shape [${dims.join(", ")}] overflows 2^53`);
  }
  return Number(n);
}

/**
 * Bytes a tensor of `type` with ggml `dims` occupies. Throws TensorShapeError for an unknown type,
 * a row length (dims[0]) that is not a multiple of the type's block size, or a size past 2^53 - 1.
 */
export function tensorByteSize(type: GGMLType | number, dims: readonly number[]): number {
  const t = TYPE_INFOS.get(type);
  if (!t) throw new TensorShapeError(`unknown type ${type}`);
  const numel = tensorNumel(dims);
  const rowLen = dims.length > 0 ? dims[0] : 1;
  if (rowLen % t.blockSize !== 0) {
    throw new TensorShapeError(
      `row length ${rowLen} is not a multiple of the ${t.name} block size ${t.blockSize}`,
    );
  }
  const bytes = (BigInt(numel) / BigInt(t.blockSize)) * BigInt(t.typeSize);
  if (bytes > MAX_SAFE) {
    throw new TensorShapeError(`byte size ${bytes} of shape [${dims.join(", ")}] overflows 2^53`);
  }
  return Number(bytes);
}
