#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 300), one after another, and prints a
# summary line per target: executions, coverage, crashes. Not part of CI (see README, development).
# Usage: scripts/fuzz-all.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-300}"; shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(health_code venue_code trust_list cose base45 id_number key_hex request_auth signed_answer pull_answer upload_batch root_chain)
export RUSTC_BOOTSTRAP=1
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 > "logs/$t.log" 2>&1
  rc=$?
  last=$(grep -E "^#[0-9]+" "logs/$t.log" | tail -1)
  crashes=$(ls artifacts/"$t" 2>/dev/null | grep -c -E "^(crash|leak|oom|timeout)-" || true)
  echo "$t: exit $rc; $last; artifacts: $crashes"
done
