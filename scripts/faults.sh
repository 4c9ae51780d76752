#!/usr/bin/env bash
# faults.sh N [FIRST_SEED] — runs the sync fault test (tests/sync_faults.rs) with N different
# seeds, SQLite and PostgreSQL each time, and prints one line per run and engine:
#   seed=0x… sqlite ok in 14.2 s; upload: DropConnection=3 Delay=5 … | refused while down=4 …
# The full per-path tallies of every run are kept in $OUT (default test-output/faults/).
# Exit status: the number of failed runs (0: all passed). A failed run is repeated with
#   VENUECODE_FAULT_SEED=<seed> cargo test -p venuecode-tests --test sync_faults -- --nocapture
set -uo pipefail
cd "$(dirname "$0")/.."
n="${1:?usage: scripts/faults.sh N [FIRST_SEED]}"
first="${2:-1}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export VENUECODE_BIN_DIR="${VENUECODE_BIN_DIR:-$CARGO_TARGET_DIR/debug}"
out="${OUT:-$PWD/test-output/faults}"
mkdir -p "$out"
cargo build -q -p venuecode-app -p venuecode-server --bins || exit 100
cargo test -q -p venuecode-tests --test sync_faults --no-run || exit 100
failed=0
for i in $(seq 0 $((n - 1))); do
  seed=$(printf '0x%x' $((first + i)))
  log="$out/seed-$seed.log"
  VENUECODE_FAULT_SEED="$seed" cargo test -q -p venuecode-tests --test sync_faults -- \
    --nocapture >"$log" 2>&1
  status=$?
  # One line per engine: the FAULTS line, with the upload path's tally and the refusals joined.
  awk -v seed="$seed" '
    /^FAULTS / { if (line) print line; line = seed " " $2 " " ($4 == "ok" ? "ok" : "FAILED") " " substr($0, index($0, $4) + length($4) + 1); up = ""; next }
    line && /^\/api\/v1\/sync\/upload:/ { line = line " | upload:" substr($0, length("/api/v1/sync/upload:") + 1) }
    line && /^refused while down=/ { line = line " | " $0 }
    END { if (line) print line }
  ' "$log" | sed 's/ per path:$//'
  if [ "$status" -ne 0 ]; then
    failed=$((failed + 1))
    grep -q '^FAULTS ' "$log" || echo "$seed FAILED before the scenario ran (see $log)"
  fi
done
echo "faults.sh: $n seeds, $failed failed; logs in $out"
exit "$failed"
