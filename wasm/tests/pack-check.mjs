// Checks the output of `npm pack --dry-run --json` (read from stdin), run in wasm/pkg by
// wasm/ci.sh: the package's metadata and its exact file list.
import fs from "node:fs";
import assert from "node:assert/strict";

const [info] = JSON.parse(fs.readFileSync(0, "utf8"));
const meta = JSON.parse(fs.readFileSync(new URL("../pkg/package.json", import.meta.url), "utf8"));
assert.equal(info.name, "reflector-wasm");
assert.match(info.version, /^\d+\.\d+\.\d+/);
assert.deepEqual(info.files.map((f) => f.path).sort(), [
  "README.md", "package.json", "reflector_wasm.d.ts", "reflector_wasm.js", "reflector_wasm_bg.wasm", "reflector_wasm_bg.wasm.d.ts",
]);
assert.equal(meta.type, "module");
assert.equal(meta.license, "MIT OR Apache-2.0");
assert.equal(meta.repository.type, "git");
assert.equal(meta.repository.directory, "wasm");
assert.match(meta.engines.node, /^>=\d+/);
assert.equal(meta.types, "./reflector_wasm.d.ts");
assert.deepEqual(meta.exports["."], { types: "./reflector_wasm.d.ts", import: "./reflector_wasm.js", default: "./reflector_wasm.js" });
for (const target of [meta.main, meta.types, ...Object.values(meta.exports).flatMap((e) => (typeof e === "string" ? [e] : Object.values(e)))]) {
  assert.ok(info.files.some((f) => `./${f.path}` === target), `${target} is not in the package`);
}
console.log(`npm pack --dry-run: ${info.filename}, ${info.entryCount} files, ${info.size} bytes packed, ${info.unpackedSize} unpacked: metadata and contents as expected`);
