#!/usr/bin/env bash
# A soak run against one embedded silo: mixed status updates (open loop), syncs and watches for
# SECONDS (600), with a line a minute of PUT p99, change-to-delivery p99, failures, and the silo's
# managed heap and working set (pgrid load --report-every). Not a CI test: record its result in
# docs/benchmarks.md.
#
#   scripts/soak.sh                      # 20,000 users, 3,000 updates/s, 100 syncers, 50 watchers, 10 minutes
#   SECONDS_=120 RATE=1000 scripts/soak.sh
#
# Environment: SECONDS_ (600), WARMUP (30), USERS (20000), RATE (3000), CONCURRENCY (16), SYNCERS (100),
# WATCHERS (50), REPORT_EVERY (60), PORT (18787), SOAK_DIR (/tmp/pgrid-soak).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${SECONDS_:-600}
WARMUP=${WARMUP:-30}
USERS=${USERS:-20000}
RATE=${RATE:-3000}
CONCURRENCY=${CONCURRENCY:-16}
SYNCERS=${SYNCERS:-100}
WATCHERS=${WATCHERS:-50}
REPORT_EVERY=${REPORT_EVERY:-60}
PORT=${PORT:-18787}
DIR=${SOAK_DIR:-/tmp/pgrid-soak}
URL=http://127.0.0.1:$PORT

mkdir -p "$DIR"
dotnet build silo/PresenceGrid.Silo -c Release --nologo -v q -o "$DIR/silo" >/dev/null
dotnet build src/PresenceGrid.Cli -c Release --nologo -v q -o "$DIR/pgrid" >/dev/null

# The embedded default with no rate limit (rc_presence would refuse most of a load test's updates).
cat >"$DIR/soak.yaml" <<'YAML'
server_name: localhost
rc_presence:
  per_second: 0
YAML

dotnet "$DIR/silo/PresenceGrid.Silo.dll" --config "$DIR/soak.yaml" --urls "$URL" >"$DIR/silo.log" 2>&1 &
silo=$!
trap 'kill "$silo" 2>/dev/null; wait "$silo" 2>/dev/null' EXIT
for _ in $(seq 1 100); do
  curl -sf "$URL/metrics" >/dev/null && break
  kill -0 "$silo" 2>/dev/null || { echo "the silo exited; see $DIR/silo.log" >&2; exit 1; }
  sleep 0.2
done

echo "soak: $(date -u +%FT%TZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), commit $(git rev-parse --short HEAD)"
dotnet "$DIR/pgrid/pgrid.dll" load --url "$URL" --users "$USERS" --rate "$RATE" --concurrency "$CONCURRENCY" \
  --syncers "$SYNCERS" --watchers "$WATCHERS" --warmup "$WARMUP" --seconds "$DURATION" --report-every "$REPORT_EVERY" \
  | tr '\r' '\n' | grep -vE '^ *([0-9]+ s  updates/s.*)?$'
status=${PIPESTATUS[0]}
if grep -qE '^(fail|crit):' "$DIR/silo.log"; then
  echo "the silo logged errors (see $DIR/silo.log):"; grep -E -A3 '^(fail|crit):' "$DIR/silo.log" | head -20
  status=1
fi
exit "$status"
