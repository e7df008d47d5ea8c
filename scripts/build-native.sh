#!/usr/bin/env bash
# Builds the optional cpu-native addon (plugins/backend/cpu-native/build/cpu_native.node) from its C
# sources with the system C compiler (Debian: gcc, or `apt-get install gcc`) and POSIX threads. Node-API
# headers come from the node-api-headers devDependency. The default install never needs this: the
# cpu-native backend refuses to load, with this script as the remedy, when the addon is missing.
# Usage: scripts/build-native.sh   (CC=clang to choose the compiler)
set -euo pipefail
cd "$(dirname "$0")/.."
src=plugins/backend/cpu-native/native
out=plugins/backend/cpu-native/build
cc="${CC:-cc}"
command -v "$cc" >/dev/null || { echo "build-native: no C compiler ($cc); install one (apt-get install gcc)" >&2; exit 1; }
inc=node_modules/node-api-headers/include
[ -f "$inc/node_api.h" ] || { echo "build-native: $inc/node_api.h missing; run npm ci" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(-O3 -fPIC -pthread -ffp-contract=off -fno-math-errno -Wall -Wextra -I"$inc" -I"$src" -DNAPI_VERSION=8)
"$cc" "${common[@]}" -c "$src/matmul_generic.c" -o "$tmp/generic.o"
"$cc" "${common[@]}" -c "$src/q8act_generic.c" -o "$tmp/q8act_generic.o"
"$cc" "${common[@]}" -c "$src/attention_generic.c" -o "$tmp/attention_generic.o"
"$cc" "${common[@]}" -mavx2 -mfma -mf16c -c "$src/matmul_avx2.c" -o "$tmp/avx2.o"
"$cc" "${common[@]}" -mavx2 -mfma -mf16c -c "$src/q8act_avx2.c" -o "$tmp/q8act_avx2.o"
"$cc" "${common[@]}" -mavx2 -mfma -mf16c -c "$src/attention_avx2.c" -o "$tmp/attention_avx2.o"
"$cc" "${common[@]}" -c "$src/cpu_native.c" -o "$tmp/addon.o"
"$cc" "${common[@]}" -c "$src/pool.c" -o "$tmp/pool.o"
"$cc" -shared -pthread -o "$out/cpu_native.node" "$tmp/generic.o" "$tmp/q8act_generic.o" "$tmp/avx2.o" "$tmp/q8act_avx2.o" "$tmp/attention_generic.o" "$tmp/attention_avx2.o" "$tmp/pool.o" "$tmp/addon.o" -lm
echo "build-native: wrote $out/cpu_native.node"
