#!/usr/bin/env bash
# One-off long fuzzing run: runs one target in chunks of CHUNK_SECONDS (default 170), each resuming from the saved
# corpus, until it has made GOAL executions (default 10 million) or crashed. With LOCK set, each chunk holds
# `flock $LOCK`, so that other jobs on a shared machine can run between chunks.
#   long_run.sh BIN_DIR RESULTS_DIR TARGET [GOAL]
set -uo pipefail
bin_dir=$1 results=$2 target=$3 goal=${4:-10000000}
chunk=${CHUNK_SECONDS:-170}
mkdir -p "$results/corpus" "$results/artifacts/$target" "$results/long"
python3 "$(dirname "$0")/seed_corpus.py" "$results/corpus" >/dev/null
total=0 round=0
while ((total < goal)); do
  round=$((round + 1))
  log=$results/long/$target-$round.log
  ${LOCK:+flock "$LOCK"} env SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:handle_sigill=1:handle_sigtrap=1 \
    "$bin_dir/$target" "$results/corpus/$target" -max_total_time="$chunk" -runs=$((goal - total)) -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$results/artifacts/$target/" >"$log" 2>&1
  status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  total=$((total + ${executions:-0}))
  line=$(grep -E 'cov: ' "$log" | tail -1)
  echo "$target round $round: +${executions:-0} = $total executions; ${line#*cov: }" | tee -a "$results/long/$target.summary"
  if ((status != 0)); then
    echo "$target: crashed in round $round (log $log)" | tee -a "$results/long/$target.summary"
    exit 1
  fi
done
echo "$target: done, $total executions" | tee -a "$results/long/$target.summary"
