#!/usr/bin/env bash
# Builds plugins/backend/cpu/wasm/kernels.wasm from its AssemblyScript source (SIMD128, shared
# imported memory so views into it survive memory.grow). Needs the assemblyscript devDependency
# (0.28.20). Usage: scripts/build-wasm.sh [out.wasm]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-plugins/backend/cpu/wasm/kernels.wasm}"
exec npx --no-install asc plugins/backend/cpu/wasm/kernels.ts \
  --outFile "$out" \
  -O3 --noAssert --runtime stub \
  --importMemory --sharedMemory --initialMemory 1 --maximumMemory 65536 \
  --enable simd,threads --disable bulk-memory \
  --noExportMemory --use abort= 
