#!/usr/bin/env bash
# Runs every suite — lint, Rust, UI, desktop end-to-end — even when an earlier one fails, keeps
# each runner's output in test-output/, and ends with every runner's summary lines, then fails
# if any suite failed.
set -uo pipefail
cd "$(dirname "$0")/.."
out=test-output
mkdir -p "$out"
failed=()

run() { # run NAME COMMAND...
  local name=$1; shift
  echo "=== $name: $*"
  if "$@" 2>&1 | tee "$out/$name.log"; then :; else failed+=("$name"); fi
}

run lint make --no-print-directory lint
run rust make --no-print-directory test-rust
run ui make --no-print-directory test-ui
run e2e make --no-print-directory test-e2e

echo
echo "=== summary"
grep -hE '^test result:' "$out/rust.log" | awk '
  { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } n++ }
  END { printf "rust (cargo test): %d passed, %d failed in %d test binaries\n", p, f, n }'
grep -hE '^\s*(Test Files|Tests)\s' "$out/ui.log" | sed -E 's/^\s+/ui (vitest): /'
grep -hE '=+ .*(passed|failed|error).* =+$' "$out/e2e.log" | tail -n 1 | sed -E 's/^=+ /e2e (pytest): /; s/ =+$//'
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all suites passed"
