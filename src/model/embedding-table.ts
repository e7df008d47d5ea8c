/**
 * The token embedding table, kept on the host as the model file stores it: a step decodes only
 * the rows of its tokens (llama.cpp's get_rows on a quantized table does the same) and writes
 * them to the device. A Q8_0 or Q4_0 model so never holds an f32 copy of its largest tensor
 * (SmolLM2-135M: 113 MB of f32 for a 49,152 × 576 table; Llama 3.2 1B: 1 GB). The rows are the
 * values `dequantize` gives for the whole tensor, bit for bit.
 */
import { f16ToF32 } from "../loader/gguf/dequantize.ts";
import { ggmlTypeName, tensorByteSize } from "../loader/gguf/ggml-types.ts";
import { GGMLType, type HostTensor } from "../loader/types.ts";
import { BLOCK_CODECS } from "../quant/ggml/decode.ts";
import { ModelFileError } from "../util/errors.ts";

const PLAIN_TYPES = [GGMLType.F32, GGMLType.F16, GGMLType.BF16];

export class EmbeddingTable {
  private readonly rowBytes: number;
  private readonly words: DataView;
  /** The [n, dim] rows of the last lookup (grown as needed, reused: no allocation per step). */
  private out = new Float32Array(0);
  private readonly bits = new Uint32Array(1);
  private readonly bf16 = new Float32Array(this.bits.buffer);

  /** `t`: token_embd.weight, dims [dim, vocabSize] (a view into the loaded file is kept, not copied). */
  constructor(private readonly t: HostTensor, readonly vocabSize: number, readonly dim: number, file: string) {
    if (t.dims[0] !== dim || (t.dims[1] ?? 1) !== vocabSize || t.dims.length > 2) {
      throw new ModelFileError(file, `tensor '${t.name}' has shape [${t.dims.join(", ")}], expected [${dim}, ${vocabSize}]`);
    }
    if (!PLAIN_TYPES.includes(t.type) && !BLOCK_CODECS.has(t.type)) {
      const accepted = [...PLAIN_TYPES, ...BLOCK_CODECS.keys()].map(ggmlTypeName).join(", ");
      throw new ModelFileError(file, `cannot read embedding table '${t.name}' of type ${ggmlTypeName(t.type)}; supported: ${accepted}`);
    }
    const need = tensorByteSize(t.type, t.dims);
    if (t.data.byteLength !== need) {
      throw new ModelFileError(file, `tensor '${t.name}' has ${t.data.byteLength} bytes of data; ${ggmlTypeName(t.type)} [${t.dims.join(", ")}] needs ${need}`);
    }
    this.rowBytes = need / vocabSize;
    this.words = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  }

  /** Bytes of the table as stored. */
  get byteLength(): number {
    return this.t.data.byteLength;
  }

  /**
   * The embeddings of ids[0..n) as one [n, dim] array, valid until the next call. An id outside
   * the vocabulary throws a RangeError naming it.
   */
  lookup(ids: ArrayLike<number>, n: number): Float32Array {
    const dim = this.dim;
    if (this.out.length < n * dim) this.out = new Float32Array(Math.max(n * dim, 2 * this.out.length));
    const out = this.out.subarray(0, n * dim);
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`token id ${id} outside the vocabulary (0..${this.vocabSize - 1})`);
      this.decodeRow(id * this.rowBytes, out, i * dim);
    }
    return out;
  }

  private decodeRow(at: number, out: Float32Array, o: number): void {
    const { dim, words: w } = this, data = this.t.data;
    switch (this.t.type) {
      case GGMLType.F32:
        for (let j = 0; j < dim; j++) out[o + j] = w.getFloat32(at + 4 * j, true);
        return;
      case GGMLType.F16:
        for (let j = 0; j < dim; j++) out[o + j] = f16ToF32(w.getUint16(at + 2 * j, true));
        return;
      case GGMLType.BF16:
        for (let j = 0; j < dim; j++) {
          this.bits[0] = w.getUint16(at + 2 * j, true) << 16;
          out[o + j] = this.bf16[0]!;
        }
        return;
      default: {
        const c = BLOCK_CODECS.get(this.t.type)!;
        for (let b = 0; b < dim / c.blockSize; b++) c.decode(data, at + b * c.typeSize, out, o + b * c.blockSize);
      }
    }
  }
}
