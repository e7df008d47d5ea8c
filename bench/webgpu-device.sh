#!/usr/bin/env bash
# The webgpu device script's wrapper (see README "WebGPU backend").
#
#   bash bench/webgpu-device.sh pack            # here, once: put a gzipped Deno binary in .device/
#   bash bench/webgpu-device.sh run [flags...]  # on the GPU machine (or here, on Mesa's lavapipe)
#
# The GPU machine has no package registry and the run tool carries at most 64 MiB, so the run
# carries `.device` (about 40 MiB: the npm `deno` package's binary, gzipped, and Debian's Vulkan
# loader and GL vendor-neutral dispatch packages: the NVIDIA Vulkan driver, libGLX_nvidia.so.0, does
# not load without libglvnd's libraries, which the GPU machines lack). Deno's built-in
# navigator.gpu talks to the machine's Vulkan driver and the bench imports only node: built-ins,
# so nothing else from node_modules is needed. Flags go to bench/webgpu-device.ts (--quick,
# --models preset:type,..., --decode-steps N, --prefill-len N, --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
cmd="${1:-run}"
[ $# -gt 0 ] && shift
case "$cmd" in
  pack)
    src="node_modules/deno/deno"
    [ -x "$src" ] || { echo "no $src: run npm ci first" >&2; exit 1; }
    mkdir -p .device
    gzip -9 -c "$src" > .device/deno.gz
    # The Vulkan loader and libglvnd (unpacked there before the run; the NVIDIA ICD needs both).
    o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    mkdir -p /tmp/amd64/partial
    # shellcheck disable=SC2086
    (apt-get $o update -qq && cd .device && apt-get $o download libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2) ||
      echo "could not fetch the Vulkan loader and libglvnd packages (the run then relies on the machine's own)" >&2
    grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
    ls -la .device
    ;;
  run)
    deno_bin=""
    if [ -f .device/deno.gz ]; then
      deno_bin="${TMPDIR:-/tmp}/llm-deno"
      [ -x "$deno_bin" ] || { gzip -dc .device/deno.gz > "$deno_bin" && chmod +x "$deno_bin"; }
    elif [ -x node_modules/deno/deno ]; then deno_bin=node_modules/deno/deno
    elif command -v deno >/dev/null; then deno_bin=deno
    else echo "no Deno binary: run 'bash bench/webgpu-device.sh pack' here and carry .device" >&2; exit 1; fi
    # Without libglvnd the loader finds the NVIDIA ICD but "could not get vkCreateInstance" from it.
    if ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1 || ! ldconfig -p 2>/dev/null | grep -q libGLdispatch.so.0; then
      for f in .device/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
      ldconfig || true
    fi
    # Vulkan ICD of the NVIDIA driver when the loader does not find it on its own.
    if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
      export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    fi
    if [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ]; then
      export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    fi
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /' >&2 || true
    "$deno_bin" --version | head -1 >&2
    exec "$deno_bin" run -A --no-check bench/webgpu-device.ts "$@"
    ;;
  *) echo "usage: bash bench/webgpu-device.sh pack | run [flags]" >&2; exit 2 ;;
esac
