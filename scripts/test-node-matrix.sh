#!/usr/bin/env bash
# The test suite on every Node.js major faucet supports (CI runs this; see README "Node.js versions"):
#   Node 20 (the machine's)  the whole suite (`pnpm test`'s vitest run)
#   Node 24 (active LTS)     the whole suite again
#   Node 22 (maintenance)    a smoke: every test that needs no server (not *.integration.test.ts)
#                            and the quick start, run twice (the second run writes 0 records)
# Node 22 and 24 come from the npm registry (scripts/node-runtime.sh). Each run puts its Node first
# on PATH, so what the tests spawn (the CLI, npm, npx) runs on it too; pnpm is not involved.
#
# Needs a build (`pnpm build`). Prints one `nodeNN: N passed, N failed, N skipped` line per run and a
# closing `total: …` line summing them; exits non-zero when any run or check failed.
#
#   bash scripts/test-node-matrix.sh            # 20 full, 24 full, 22 smoke
#   bash scripts/test-node-matrix.sh 24         # one run: 24 full (22 smoke)
#   bash scripts/test-node-matrix.sh 24 -- packages/core   # extra vitest arguments after --
set -uo pipefail
cd "$(dirname "$0")/.."

majors=()
while [[ $# -gt 0 && "$1" != -- ]]; do
  majors+=("$1")
  shift
done
[[ "${1:-}" == -- ]] && shift
extra=("$@")
[[ ${#majors[@]} -gt 0 ]] || majors=(20 24 22)

declare -a lines=() failures=()
passed=0 failed=0 skipped=0 status=0

# count LABEL LOG EXIT: add the run's summary-reporter line to the totals.
count() {
  local label=$1 log=$2 code=$3 line
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)"
  if [[ -z "$line" ]]; then
    lines+=("$label: no test count (vitest exited $code before its summary)")
    status=1
    return
  fi
  lines+=("$label: $line$([[ $code -ne 0 ]] && echo " (vitest exited $code)")")
  # Every failed test by name, repeated at the very end: a CI log is often read from its tail only.
  local failure
  while IFS= read -r failure; do failures+=("$label: $failure"); done < <(
    sed -E 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ *FAIL ' | sed -E 's/^ +//' | sort -u | head -n 40
  )
  [[ $code -eq 0 ]] || status=1
  local p f s
  p="$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")"
  f="$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")"
  s="$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
}

# quickstart NODE: the quick start in a scratch copy, twice; the second run must write 0 records.
quickstart() {
  local node=$1 dir out first second
  dir="$(mktemp -d)"
  cp -r examples/quickstart/. "$dir/"
  rm -rf "$dir/out" "$dir/.faucet"
  out="$dir/summary.json"
  if "$node" apps/cli/dist/bin.js run "$dir/pipeline.yaml" -o json -q >"$out" &&
    first="$("$node" -p "require('$out').records_written")" &&
    "$node" apps/cli/dist/bin.js run "$dir/pipeline.yaml" -o json -q >"$out" &&
    second="$("$node" -p "require('$out').records_written")" &&
    [[ "$first" -gt 0 && "$second" -eq 0 ]]; then
    echo "quick start on $("$node" -v): $first records, then 0 on the second run"
    rm -rf "$dir"
    return 0
  fi
  echo "quick start on $("$node" -v) FAILED (first: ${first:-?} records, second: ${second:-?}; files in $dir)"
  return 1
}

for major in "${majors[@]}"; do
  node="$(bash scripts/node-runtime.sh "$major")" || {
    lines+=("node$major: could not install Node $major")
    status=1
    continue
  }
  args=(run)
  kind=full
  if [[ "$major" == 22 ]]; then
    kind=smoke
    args+=(--exclude '**/node_modules/**' --exclude '**/*.integration.test.ts')
  fi
  echo
  echo "== test on Node $("$node" -v) ($kind)"
  log="$(mktemp)"
  PATH="$(dirname "$node"):$PATH" "$node" node_modules/vitest/vitest.mjs "${args[@]}" "${extra[@]}" 2>&1 |
    tee "$log"
  count "node$major" "$log" "${PIPESTATUS[0]}"
  rm -f "$log"
  if [[ "$kind" == smoke ]]; then
    if result="$(quickstart "$node")"; then lines+=("node$major: $result"); else
      lines+=("node$major: $result")
      status=1
    fi
  fi
done

echo
if [[ ${#failures[@]} -gt 0 ]]; then
  echo "failed tests:"
  for failure in "${failures[@]}"; do echo "  $failure"; done
fi
for line in "${lines[@]}"; do echo "$line"; done
echo "total: $passed passed, $failed failed, $skipped skipped"
exit "$status"
