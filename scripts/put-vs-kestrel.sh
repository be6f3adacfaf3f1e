#!/usr/bin/env bash
# PUT status through HTTP: the silo against a minimal Kestrel app (tests/PresenceGrid.HttpBaseline) that only parses
# the same JSON body, with the same client (ab), in the same run, alternating (issue 19; docs/benchmarks.md).
#
#   scripts/put-vs-kestrel.sh [ROUNDS]
#
# Environment: SECONDS_PER_RUN (20), WARMUP_SECONDS (30: the silo's JIT reaches tier 1), PROCS (1: one ab -k -c 32 on one
# user, the same state every time; N > 1, even: N ab processes at -c 32/N, two per user, one sending "online" and the
# other "unavailable", so N/2 users change presence on most requests), SILO_PORT (8790),
# BASELINE_PORT (8791), EXTRA_YAML (lines appended to the silo's config), OUT (/tmp/pgrid-put: published builds, config, logs). Silo CPU per request is the /proc/PID/stat
# utime+stime delta over the run divided by the requests ab completed. Both servers run for the whole script, so
# each run has the other one idle beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-3}
RUN_SECONDS=${SECONDS_PER_RUN:-20}
WARMUP=${WARMUP_SECONDS:-30}
PROCS=${PROCS:-1}
SILO_PORT=${SILO_PORT:-8790}
BASELINE_PORT=${BASELINE_PORT:-8791}
OUT=${OUT:-/tmp/pgrid-put}
CONCURRENCY=32
TICKS=$(getconf CLK_TCK)

command -v ab >/dev/null || { echo "ab not found: apt-get install apache2-utils" >&2; exit 2; }
mkdir -p "$OUT"
if [ ! -f "$OUT/silo/PresenceGrid.Silo.dll" ] || [ -n "${REBUILD:-}" ]; then
  echo "building the silo and the baseline (Release)..."
  dotnet publish silo/PresenceGrid.Silo -c Release -o "$OUT/silo" --nologo -v q >/dev/null
  dotnet publish tests/PresenceGrid.HttpBaseline -c Release -o "$OUT/baseline" --nologo -v q >/dev/null
fi

# The embedded default's config with the rate limit off, so that every PUT is accepted.
sed '/^rc_presence:/,$d' silo/PresenceGrid.Silo/presencegrid.yaml > "$OUT/put.yaml"
printf 'rc_presence:\n  per_second: 0\n' >> "$OUT/put.yaml"
[ -n "${EXTRA_YAML:-}" ] && printf '%s\n' "$EXTRA_YAML" >> "$OUT/put.yaml"
printf '{"presence":"online","status_msg":"benchmarking"}' > "$OUT/online.json"
printf '{"presence":"unavailable","status_msg":"benchmarking"}' > "$OUT/unavailable.json"

pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_healthy() {
  for _ in $(seq 1 120); do
    curl -fs -X PUT -H 'Content-Type: application/json' --data-binary @"$OUT/online.json" "$1/v1/presence/@warm:localhost/status" >/dev/null 2>&1 && return
    sleep 0.5
  done
  echo "$1 did not answer" >&2; exit 1
}

dotnet "$OUT/silo/PresenceGrid.Silo.dll" --config "$OUT/put.yaml" --urls "http://127.0.0.1:$SILO_PORT" >"$OUT/silo.log" 2>&1 &
pids+=($!); silo_pid=$!
dotnet "$OUT/baseline/PresenceGrid.HttpBaseline.dll" --urls "http://127.0.0.1:$BASELINE_PORT" >"$OUT/baseline.log" 2>&1 &
pids+=($!); baseline_pid=$!
wait_healthy "http://127.0.0.1:$SILO_PORT"
wait_healthy "http://127.0.0.1:$BASELINE_PORT"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# One run of ab against a server: prints req/s, µs of server CPU per request, the worst ab process's p99 and p50.
run() {
  local name=$1 port=$2 pid=$3 seconds=$4 per=$((CONCURRENCY / PROCS)) abpids=() i body
  local before after start end
  before=$(cpu_ticks "$pid"); start=$(date +%s.%N)
  for i in $(seq 0 $((PROCS - 1))); do
    body=$OUT/online.json; [ $((i % 2)) = 1 ] && body=$OUT/unavailable.json
    ab -k -q -c "$per" -t "$seconds" -n $((60000 * seconds / PROCS)) -u "$body" -T application/json \
      "http://127.0.0.1:$port/v1/presence/@ab$((i / 2)):localhost/status" >"$OUT/ab-$name-$i.txt" 2>&1 &
    abpids+=($!)
  done
  wait "${abpids[@]}"
  end=$(date +%s.%N); after=$(cpu_ticks "$pid")
  local requests=0 failed=0 p99=0 p50=0 r
  for i in $(seq 0 $((PROCS - 1))); do
    r=$(awk '/^Complete requests:/ { print $3 }' "$OUT/ab-$name-$i.txt"); requests=$((requests + r))
    r=$(awk '/^Failed requests:/ { print $3 }' "$OUT/ab-$name-$i.txt"); failed=$((failed + r))
    r=$(awk '/^Non-2xx responses:/ { print $3 }' "$OUT/ab-$name-$i.txt"); failed=$((failed + ${r:-0}))
    r=$(awk '$1 == "99%" { print $2 }' "$OUT/ab-$name-$i.txt"); [ "$r" -gt "$p99" ] && p99=$r
    r=$(awk '$1 == "50%" { print $2 }' "$OUT/ab-$name-$i.txt"); [ "$r" -gt "$p50" ] && p50=$r
  done
  awk -v n="$name" -v q="$requests" -v f="$failed" -v s="$start" -v e="$end" -v b="$before" -v a="$after" -v t="$TICKS" \
      -v p99="$p99" -v p50="$p50" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
    cpu = (a - b) / t; wall = e - s
    printf "%-8s %9.0f req/s  %6.1f us CPU/req  %4.2f cores  p50 %s ms  p99 %s ms  (%d requests, %d failed or non-2xx, load %s)\n",
      n, q / wall, cpu * 1e6 / q, cpu / wall, p50, p99, q, f, load }'
}

echo "warming up both ($WARMUP s each)..."
run silo "$SILO_PORT" "$silo_pid" "$WARMUP" >/dev/null
run baseline "$BASELINE_PORT" "$baseline_pid" "$WARMUP" >/dev/null
echo "$(date -u +%FT%TZ) $ROUNDS rounds, $PROCS ab process(es) at -c $((CONCURRENCY / PROCS)), $RUN_SECONDS s each"
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then
    run silo "$SILO_PORT" "$silo_pid" "$RUN_SECONDS"; run baseline "$BASELINE_PORT" "$baseline_pid" "$RUN_SECONDS"
  else
    run baseline "$BASELINE_PORT" "$baseline_pid" "$RUN_SECONDS"; run silo "$SILO_PORT" "$silo_pid" "$RUN_SECONDS"
  fi
done
