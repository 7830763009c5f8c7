#!/usr/bin/env bash
# The longer fuzzing run: the properties CI runs with proptest's default 256 cases each (the
# msgpack and JSON value decoders in tfplugin/tests/fuzz_codec.rs and tfplugin's codec property
# tests; the local service's request parsing in emulator/tests/fuzz.rs), with many more cases.
# A failure prints the shrunk input; proptest also records it under proptest-regressions/ so the
# next run tries it first.
#
# Usage: scripts/fuzz.sh [cases per property]   (default 20000, or FUZZ_CASES)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

CASES="${1:-${FUZZ_CASES:-20000}}"
export PROPTEST_CASES="$CASES"
started=$(date +%s)

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
run() {
  echo "fuzz.sh: cargo test $* (PROPTEST_CASES=$CASES)"
  if ! cargo test "$@" >"$log" 2>&1; then
    grep -vE '^\s+(Compiling|Checking|Downloaded|Downloading)' "$log" >&2
    echo "fuzz.sh: FAILED: cargo test $*" >&2
    exit 1
  fi
  grep -E '^test result' "$log"
}

# The decoders: 5 properties, and the 4 codec properties of the unit tests.
run -p tfplugin --test fuzz_codec
run -p tfplugin --lib codec::proptests
# The local service: 1 property (signed requests over HTTP, so slower per case).
run -p batch-emulator --test fuzz

echo "fuzz.sh: passed: $CASES cases for each of 10 properties ($((CASES * 10)) in all) in $(( $(date +%s) - started )) s"
