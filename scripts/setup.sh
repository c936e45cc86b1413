#!/usr/bin/env bash
# Sets up a new machine for tfjs-diffusion: the system packages (through apt when this runs as root on
# Debian/Ubuntu): gcc and OpenBLAS for the native CPU kernels, redis-server for the serving queue's
# tests; then pnpm, the workspace and the build. apt-get runs only when one of them is missing, so a
# second run installs nothing. Without gcc/OpenBLAS everything still works on the plain wasm kernels,
# about 4x slower.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

SYSTEM_PACKAGES=(gcc libc6-dev libopenblas-dev redis-server)

# Whether a Debian package is installed. The status goes through a variable, never `... | grep -q`:
# under pipefail, grep -q exits at the first match and the writer can die of SIGPIPE, which made the
# old check fail at random and re-run apt-get every time.
installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)
  [ "$status" = "install ok installed" ]
}

missing=()
if command -v dpkg-query >/dev/null; then
  for package in "${SYSTEM_PACKAGES[@]}"; do installed "$package" || missing+=("$package"); done
else
  libraries=$(ldconfig -p 2>/dev/null || true)
  command -v gcc >/dev/null || missing+=(gcc)
  [[ $libraries == *libopenblas.so.0* ]] || missing+=(libopenblas-dev)
  command -v redis-server >/dev/null || missing+=(redis-server)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]} (apt)" >&2
    (apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null) \
      || echo "setup: apt-get install failed; continuing (wasm kernels without gcc/OpenBLAS, no Redis tests)" >&2
  else
    echo "setup: missing ${missing[*]} and no root apt-get: install them for ~4x faster CPU kernels (gcc, libopenblas-dev) and the serving queue (redis-server)" >&2
  fi
fi

command -v pnpm >/dev/null || npm install -g pnpm@10 >/dev/null 2>&1
pnpm install --frozen-lockfile
pnpm exec turbo run build --output-logs=errors-only
