/**
 * Errors a user can act on. The CLI prints `message` on one line and exits with `exitCode`
 * (1 runtime/input-file problem, 2 usage problem); stack traces only with --verbose.
 */
export class LlmError extends Error {
  readonly exitCode: 1 | 2;
  constructor(message: string, exitCode: 1 | 2 = 1) {
    super(message);
    this.name = "LlmError";
    this.exitCode = exitCode;
  }
}

/** A bad flag, argument or request parameter (exit code 2). */
export class UsageError extends LlmError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

/** A model/tokenizer file that cannot be read as what it claims to be (exit code 1). */
export class ModelFileError extends LlmError {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`, 1);
    this.name = "ModelFileError";
    this.file = file;
  }
}
