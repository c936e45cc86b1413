#!/usr/bin/env bash
# Sets up a new machine for tfjs-diffusion: the system packages the native CPU kernels need (gcc and
# OpenBLAS, through apt when this runs as root on Debian/Ubuntu), pnpm, the workspace, and the build.
# Without gcc/OpenBLAS everything still works on the plain wasm kernels, about 4x slower.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

if ! command -v gcc >/dev/null || ! ldconfig -p 2>/dev/null | grep -q libopenblas.so.0; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing gcc and OpenBLAS (apt) for the native CPU kernels" >&2
    (apt-get update -qq && apt-get install -y -qq gcc libc6-dev libopenblas-dev >/dev/null) \
      || echo "setup: apt-get install failed; continuing with the wasm kernels" >&2
  else
    echo "setup: gcc or OpenBLAS missing and no root apt-get: install gcc and libopenblas-dev for ~4x faster CPU kernels" >&2
  fi
fi

command -v pnpm >/dev/null || npm install -g pnpm@10 >/dev/null 2>&1
pnpm install --frozen-lockfile
pnpm exec turbo run build --output-logs=errors-only
