#!/usr/bin/env bash
# Runs each fuzz target for a bounded time and prints its executions, coverage and crashes (make fuzz).
#   run.sh BIN_DIR RESULTS_DIR SECONDS TARGET...
# With FUZZ_RUNS=N in the environment each target stops after N executions (or SECONDS, whichever comes first).
# Each target resumes from RESULTS_DIR/corpus/TARGET (seeded from Protocol/vectors by seed_corpus.py); crash inputs
# go to RESULTS_DIR/artifacts/TARGET/ and the log to RESULTS_DIR/TARGET.log. Exits non-zero if any target crashed.
set -uo pipefail
bin_dir=$1 results=$2 seconds=$3
shift 3
mkdir -p "$results/corpus"
python3 "$(dirname "$0")/seed_corpus.py" "$results/corpus" >/dev/null
failed=()
printf '%-18s %12s %8s %8s %8s %s\n' target executions exec/s cov ft crashes
for target in "$@"; do
  mkdir -p "$results/corpus/$target" "$results/artifacts/$target"
  log=$results/$target.log
  # A Swift trap is SIGILL/SIGTRAP; ASan turns those and memory errors into a report and a crash-* artifact.
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:handle_sigill=1:handle_sigtrap=1} \
    "$bin_dir/$target" "$results/corpus/$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -artifact_prefix="$results/artifacts/$target/" >"$log" 2>&1
  status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  crashes=$(find "$results/artifacts/$target" -type f | wc -l)
  printf '%-18s %12s %8s %8s %8s %s\n' "$target" "${executions:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
  if ((status != 0 || crashes > 0)); then
    failed+=("$target")
    grep -m1 -A12 -E '^==[0-9]+==ERROR|Fatal error|deadly signal' "$log" | sed 's/^/    /'
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: crashes in ${failed[*]} (inputs in $results/artifacts/, logs in $results/)" >&2
  exit 1
fi
