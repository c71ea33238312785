#!/usr/bin/env bash
# Builds the npm package of reflector-wasm into wasm/pkg/ and packs it into wasm/dist/.
#
#   wasm/build.sh            # package + tarball
#
# Needs: the wasm32-unknown-unknown Rust target, wasm-bindgen-cli at the exact
# version of the wasm-bindgen crate in Cargo.lock (installed here by cargo
# install when missing), npm; wasm-opt (binaryen >= 116: the npm package pinned in
# wasm/tests, installed by `npm ci` there, or the system's) when present.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
t0=$(date +%s)

# The exact wasm-bindgen version the crate links against: the CLI must match it.
wb_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$root/Cargo.lock")"
[ -n "$wb_version" ] || { echo "build.sh: wasm-bindgen not found in Cargo.lock" >&2; exit 1; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

if ! wasm-bindgen --version 2>/dev/null | grep -qF " $wb_version"; then
  echo "build.sh: installing wasm-bindgen-cli $wb_version" >&2
  # --locked first; when a locked dependency is no longer served (yanked), resolve afresh.
  cargo install wasm-bindgen-cli --version "$wb_version" --locked \
    || cargo install wasm-bindgen-cli --version "$wb_version"
fi

cargo build -p reflector-wasm --target wasm32-unknown-unknown --profile wasm-release
raw="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/reflector_wasm.wasm"

rm -rf "$here/pkg"
wasm-bindgen --target web --typescript --out-dir "$here/pkg" "$raw"
bg="$here/pkg/reflector_wasm_bg.wasm"
before=$(stat -c %s "$bg")
# wasm-opt: binaryen from npm (wasm/tests, `npm ci`) when installed, else the system's.
# Binaryen before version 116 (Debian bookworm has 108) rewrites the externref table
# export wasm-bindgen relies on and the module fails at load: such a wasm-opt is skipped.
wasm_opt=""
for cand in "$here/tests/node_modules/.bin/wasm-opt" "$(command -v wasm-opt || true)"; do
  [ -n "$cand" ] && [ -x "$cand" ] || continue
  v="$("$cand" --version 2>/dev/null | grep -o 'version [0-9]*' | grep -o '[0-9]*' || echo 0)"
  if [ "${v:-0}" -ge 116 ]; then wasm_opt="$cand"; break; fi
  echo "build.sh: skipping $cand (binaryen $v < 116)" >&2
done
if [ -n "$wasm_opt" ]; then
  # The features rustc enables by default for wasm32-unknown-unknown.
  "$wasm_opt" -O3 --strip-debug --strip-producers \
    --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
    --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
    -o "$bg.opt" "$bg"
  mv "$bg.opt" "$bg"
  echo "build.sh: optimised with $("$wasm_opt" --version)"
else
  echo "build.sh: no usable wasm-opt (cd wasm/tests && npm ci); package left unoptimised" >&2
fi
after=$(stat -c %s "$bg")
gz=$(gzip -9 -c "$bg" | wc -c)

version="$(awk -F'"' '/^\[workspace.package\]/ { p = 1 } p && /^version/ { print $2; exit }' "$root/Cargo.toml")"
# package.json: the template in npm/ with the workspace version and, when this clone has a
# remote, its URL as repository.url (the field is dropped when there is none).
repo_url="$(git -C "$root" remote get-url origin 2>/dev/null || true)"
VERSION="$version" REPO_URL="$repo_url" node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  p.version = process.env.VERSION;
  if (process.env.REPO_URL) p.repository.url = process.env.REPO_URL.replace(/^(https?:)/, "git+$1");
  else delete p.repository.url;
  fs.writeFileSync(process.argv[2], JSON.stringify(p, null, 2) + "\n");
' "$here/npm/package.json" "$here/pkg/package.json"
cp "$here/npm/README.md" "$here/pkg/README.md"
rm -f "$here/pkg/.gitignore"

# The demo page preloads the story's cluster: examples/calico-rr as one YAML stream.
for f in "$root"/examples/calico-rr/*.yaml; do cat "$f"; echo "---"; done | sed '$d' > "$here/www/story.yaml"
# ... and plays the migrations of examples/calico-migration step by step: for each order,
# its step folders in name order, each as one YAML stream ({ name, yaml }).
node -e '
  const fs = require("fs"), path = require("path");
  const dir = process.argv[1], out = {};
  for (const order of ["safe", "unsafe"]) {
    out[order] = fs.readdirSync(path.join(dir, order)).sort().map((name) => ({
      name,
      yaml: fs.readdirSync(path.join(dir, order, name)).filter((f) => f.endsWith(".yaml")).sort()
        .map((f) => fs.readFileSync(path.join(dir, order, name, f), "utf8")).join("\n---\n"),
    }));
  }
  fs.writeFileSync(process.argv[2], JSON.stringify(out, null, 1) + "\n");
' "$root/examples/calico-migration" "$here/www/migration.json"

mkdir -p "$here/dist"
rm -f "$here"/dist/reflector-wasm-*.tgz
(cd "$here/pkg" && npm pack --pack-destination "$here/dist" --silent >/dev/null)

echo "wasm-bindgen $wb_version; .wasm: $before bytes from wasm-bindgen, $after after wasm-opt, $gz gzipped"
echo "package: $(ls "$here"/dist/reflector-wasm-*.tgz) ($(stat -c %s "$here"/dist/reflector-wasm-*.tgz) bytes)"
echo "build.sh: done in $(( $(date +%s) - t0 )) s"
