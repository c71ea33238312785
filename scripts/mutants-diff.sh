#!/usr/bin/env bash
# Bounded mutation check of the lines of reflector-core changed since a base
# commit (cargo mutants --in-diff), for CI: a mutant in changed code that no
# test catches fails the check, so the mutation score cannot silently fall.
#
#   scripts/mutants-diff.sh [BASE]        BASE defaults to HEAD~1
#
# Environment:
#   MUTANTS_TOTAL_SECONDS  cap on the whole run (default 900); when it is hit
#                          the run stops, what was tested is printed, and the
#                          check passes with a warning (it is a bound, not a verdict)
#   MUTANTS_TIMEOUT        per-mutant test timeout in seconds (default 120)
#   MUTANTS_TESTS          space-separated integration test targets to run per
#                          mutant, besides the library's unit tests (default:
#                          every test target of reflector-core)
#   MUTANTS_IN_PLACE       1 (default) mutates this checkout in place, reusing
#                          its target directory; 0 lets cargo-mutants copy the
#                          tree (a full build of the dependencies first)
#   PROPTEST_CASES         property test cases per property (default 64 here)
#
# Skipped, with a message and status 0, when cargo-mutants is not installed
# (`cargo install cargo-mutants --version 27.1.0 --locked`; RELIABILITY.md).
# Exit status: 0 all mutants in the diff caught (or none, or the cap was hit),
# 2 some mutant missed, other values as cargo-mutants gives them.
set -euo pipefail
cd "$(dirname "$0")/.."

base="${1:-HEAD~1}"
total="${MUTANTS_TOTAL_SECONDS:-900}"
per_mutant="${MUTANTS_TIMEOUT:-120}"
in_place="${MUTANTS_IN_PLACE:-1}"
export PROPTEST_CASES="${PROPTEST_CASES:-64}"

if ! cargo mutants --version >/dev/null 2>&1; then
  echo "mutants-diff: cargo-mutants is not installed; skipped"
  exit 0
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
diff_file="$out/core.diff"
git diff "$base"...HEAD -- core/src >"$diff_file"
if [ ! -s "$diff_file" ]; then
  echo "mutants-diff: no change to core/src since $base; nothing to mutate"
  exit 0
fi

args=(-p reflector-core --in-diff "$diff_file" --timeout "$per_mutant"
  --build-timeout 600 --no-shuffle -o "$out")
if [ -n "${MUTANTS_TESTS:-}" ]; then
  args+=(--cargo-test-arg=--lib)
  for t in $MUTANTS_TESTS; do
    args+=(--cargo-test-arg=--test "--cargo-test-arg=$t")
  done
fi
if [ "$in_place" = 1 ]; then
  # In place, cargo-mutants edits core/src and puts it back; a run cut short
  # by the cap is put back from git, so refuse to start on uncommitted edits.
  if ! git diff --quiet HEAD -- core/src; then
    echo "mutants-diff: core/src has uncommitted changes; commit them or set MUTANTS_IN_PLACE=0" >&2
    exit 1
  fi
  args+=(--in-place)
fi

echo "mutants-diff: cargo-mutants $(cargo mutants --version | awk '{print $2}') on core/src changed since $base (cap ${total}s, ${per_mutant}s per mutant)"
start=$(date +%s)
status=0
timeout -s INT -k 30 "$total" cargo mutants "${args[@]}" || status=$?
if [ "$in_place" = 1 ] && ! git diff --quiet HEAD -- core/src; then
  echo "mutants-diff: restoring core/src after an interrupted in-place run"
  git checkout HEAD -- core/src
fi
res="$out/mutants.out"
for k in caught missed timeout unviable; do
  printf '%-9s %s\n' "$k" "$(cat "$res/$k.txt" 2>/dev/null | wc -l)"
done
if [ -s "$res/missed.txt" ]; then
  echo "--- missed (add a test that catches each, or list it in RELIABILITY.md as equivalent):"
  cat "$res/missed.txt"
fi
echo "mutants-diff: $(($(date +%s) - start))s"
case "$status" in
  124 | 130)
    echo "mutants-diff: stopped at the ${total}s cap; the counts above cover the mutants tested so far" >&2
    if [ -s "$res/missed.txt" ]; then exit 2; fi
    exit 0
    ;;
  *) exit "$status" ;;
esac
