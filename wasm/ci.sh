#!/usr/bin/env bash
# What CI runs for the WebAssembly package and the demo page:
#   1. wasm/build.sh: the npm package (wasm-bindgen, wasm-opt, npm pack);
#   2. npm pack --dry-run: the package's metadata (ESM, exports, types, engines,
#      license, repository) and exact contents (tests/pack-check.mjs);
#   3. node --test: the package API under Node.js (simulator; decodeUpdate and
#      MrtParser on the shared MRT dumps), then the demo page end to end and its
#      safety and accessibility in Debian's chromium driven by playwright-core
#      (screenshots in $E2E_OUTPUT, default wasm/tests/output/; the 500-node
#      convergence time is printed).
# Needs: Debian's chromium (installed here when missing), node and npm (npm ci
# installs playwright-core and binaryen's wasm-opt, pinned in wasm/tests), the
# wasm32-unknown-unknown Rust target; build.sh installs wasm-bindgen-cli.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
t0=$(date +%s)

if ! command -v chromium >/dev/null; then
  echo "wasm/ci.sh: installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

echo "=== wasm: npm ci (playwright-core, binaryen's wasm-opt)"
(cd "$here/tests" && npm ci --no-audit --no-fund --loglevel=error)

echo "=== wasm: build the npm package"
bash "$here/build.sh"

echo "=== wasm: npm pack --dry-run (package metadata and contents)"
(cd "$here/pkg" && npm pack --dry-run --json --loglevel=error) | node "$here/tests/pack-check.mjs"

echo "=== wasm: node --test (package API, wire decoding, demo page in chromium)"
cd "$here/tests"
node --test --test-reporter=spec --test-concurrency=1 api.test.mjs decode.test.mjs e2e.test.mjs page.test.mjs

echo "wasm/ci.sh: done in $(( $(date +%s) - t0 )) s"
