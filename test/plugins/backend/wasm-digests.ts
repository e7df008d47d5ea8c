// Prints the digests of one fixed product per wasm kernel dtype as JSON, so a test can compare
// runtimes (node --import tsx, bun, deno run -A).
import { createWasmKernels } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { dtypeDigests } from "./wasm-dtype-cases.ts";

const K = createWasmKernels();
console.log(JSON.stringify(K ? dtypeDigests(K) : null));
