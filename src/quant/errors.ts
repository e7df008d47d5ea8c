import { LlmError } from "../util/errors.ts";

/** A tensor a quantization scheme cannot take (bad group size, shape or type); names what is accepted. */
export class QuantizationError extends LlmError {
  constructor(message: string) {
    super(message, 1);
    this.name = "QuantizationError";
  }
}

/** Throws unless values.length is rows * cols with positive integer sizes. */
export function checkMatrix(what: string, values: ArrayLike<number>, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new QuantizationError(`${what}: invalid shape [${rows}, ${cols}]; rows and columns must be positive integers`);
  }
  if (values.length !== rows * cols) throw new QuantizationError(`${what}: ${values.length} values for shape [${rows}, ${cols}]`);
}
