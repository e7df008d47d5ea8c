#!/usr/bin/env bash
# Builds the cpu backend's WebAssembly modules from their AssemblyScript sources (SIMD128, shared
# imported memory so views into it survive memory.grow): plugins/backend/cpu/wasm/kernels.wasm
# (matrix products, entry kernels.ts), kernels-relaxed.wasm (the same with relaxed SIMD, for
# engines that have it: ASC_FEATURE_RELAXED_SIMD selects its Q4_0 tile, wasm/q4relaxed.ts) and
# ops.wasm (attention, SiLU-mul and RMSNorm loops, entry ops.ts). Needs the assemblyscript devDependency (0.28.20).
# Usage: scripts/build-wasm.sh [out-dir]   (default: plugins/backend/cpu/wasm)
set -euo pipefail
cd "$(dirname "$0")/.."
src=plugins/backend/cpu/wasm
outdir="${1:-$src}"
for target in kernels:kernels kernels:kernels-relaxed ops:ops; do
  entry="${target%%:*}" out="${target#*:}" features=simd,threads
  if [ "$out" = kernels-relaxed ]; then features=simd,threads,relaxed-simd; fi
  npx --no-install asc "$src/$entry.ts" \
    --outFile "$outdir/$out.wasm" \
    -O3 --noAssert --runtime stub \
    --importMemory --sharedMemory --initialMemory 1 --maximumMemory 65536 \
    --enable "$features" --disable bulk-memory \
    --noExportMemory --use abort=
done
