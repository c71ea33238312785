#!/usr/bin/env bash
# What CI runs for the WebAssembly package and the demo page:
#   1. wasm/build.sh: the npm package (wasm-bindgen, wasm-opt, npm pack);
#   2. npm pack --dry-run: the package's metadata (ESM, exports, types, engines,
#      license, repository) and exact contents (tests/pack-check.mjs);
#   3. the packed tarball installed into a new project in /tmp, as a user would:
#      examples/node-reflect.mjs (written from the package README) reflects an
#      UPDATE between three clients and its output must be
#      examples/node-reflect.expected; tsc --noEmit (strict) checks
#      examples/typed.ts against the tarball's generated reflector_wasm.d.ts;
#   4. node --test: the package API under Node.js (Engine; simulator; decodeUpdate
#      and MrtParser on the shared MRT dumps), then the demo page end to end and its
#      safety and accessibility in Debian's chromium driven by playwright-core
#      (screenshots in $E2E_OUTPUT, default wasm/tests/output/; the 500-node
#      convergence time is printed).
# Needs: Debian's chromium (installed here when missing), node and npm (npm ci
# installs playwright-core, typescript and binaryen's wasm-opt, pinned in wasm/tests), the
# wasm32-unknown-unknown Rust target; build.sh installs wasm-bindgen-cli.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
t0=$(date +%s)

if ! command -v chromium >/dev/null; then
  echo "wasm/ci.sh: installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

echo "=== wasm: npm ci (playwright-core, typescript, binaryen's wasm-opt)"
(cd "$here/tests" && npm ci --no-audit --no-fund --loglevel=error)

echo "=== wasm: build the npm package"
bash "$here/build.sh"

echo "=== wasm: npm pack --dry-run (package metadata and contents)"
(cd "$here/pkg" && npm pack --dry-run --json --loglevel=error) | node "$here/tests/pack-check.mjs"

echo "=== wasm: the tarball in a new project: examples/node-reflect.mjs, tsc on examples/typed.ts"
tgz="$(ls "$here"/dist/reflector-wasm-*.tgz)"
# The tarball itself (not only the dry run) holds the module, its types and the .wasm.
listing="$(tar -tzf "$tgz")"
for f in package.json README.md reflector_wasm.js reflector_wasm.d.ts reflector_wasm_bg.wasm reflector_wasm_bg.wasm.d.ts; do
  grep -qx "package/$f" <<<"$listing" || { echo "ci.sh: $f missing from $tgz" >&2; exit 1; }
done
proj="$(mktemp -d /tmp/reflector-wasm-example.XXXXXX)"
trap 'rm -rf "$proj"' EXIT
cp "$here/examples/node-reflect.mjs" "$here/examples/typed.ts" "$here/examples/tsconfig.json" "$proj/"
(cd "$proj" && npm init -y >/dev/null && npm pkg set type=module \
  && npm install --no-audit --no-fund --loglevel=error "$tgz")
(cd "$proj" && node node-reflect.mjs) > "$proj/out.txt"
diff -u "$here/examples/node-reflect.expected" "$proj/out.txt"
echo "node-reflect.mjs: output as expected ($(wc -l < "$proj/out.txt") lines)"
"$here/tests/node_modules/.bin/tsc" --version
"$here/tests/node_modules/.bin/tsc" -p "$proj/tsconfig.json"
echo "tsc --noEmit: examples/typed.ts type-checks against the packed reflector_wasm.d.ts"

echo "=== wasm: node --test (engine, package API, wire decoding, demo page in chromium)"
cd "$here/tests"
node --test --test-reporter=spec --test-concurrency=1 engine.test.mjs api.test.mjs decode.test.mjs e2e.test.mjs page.test.mjs whatif.test.mjs

echo "wasm/ci.sh: done in $(( $(date +%s) - t0 )) s"
