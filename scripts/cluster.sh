#!/usr/bin/env bash
# A real multi-process PresenceGrid cluster on loopback: a private PostgreSQL and N silo processes.
#
#   scripts/cluster.sh start        # PostgreSQL on 127.0.0.1:$PG_PORT, silos on http://127.0.0.1:8787.. (silo ports 11111..)
#   scripts/cluster.sh status       # GET /v1/admin/cluster from each running silo
#   scripts/cluster.sh load [args]  # pgrid load spread over every silo (extra args go to pgrid load)
#   scripts/cluster.sh kill N       # kill -9 silo N (0-based); the others declare it dead after lease_ms
#   scripts/cluster.sh restart N    # start silo N again (a new incarnation)
#   scripts/cluster.sh stop         # stop the silos and PostgreSQL, keep the data directory
#   scripts/cluster.sh clean        # stop and delete everything
#
# Environment: SILOS (3), PG_PORT (55432), HTTP_BASE (8787), SILO_BASE (11111), LEASE_MS (5000),
# H2C_BASE (8887: the silos' HTTP/2 endpoints; H2C=1 loads through them), GROUP_COMMIT_MS (2),
# PGRID_CLUSTER_DIR (/tmp/pgrid-cluster), CLUSTER_ID (loopback), CLUSTER_SECRET,
# DOTNET_ThreadPool_UnfairSemaphoreSpinLimit (0 here: silos and pgrid share the machine's cores),
# DOTNET_GCgen0size (0x4000000 here: 64 MiB, fewer collections), EXTRA_YAML (appended to every
# silo's configuration, e.g. "dashboard: {enabled: false}").
set -euo pipefail
cd "$(dirname "$0")/.."

SILOS=${SILOS:-3}
PG_PORT=${PG_PORT:-55432}
HTTP_BASE=${HTTP_BASE:-8787}
H2C_BASE=${H2C_BASE:-8887}
SILO_BASE=${SILO_BASE:-11111}
GATEWAY_BASE=${GATEWAY_BASE:-30000}
LEASE_MS=${LEASE_MS:-5000}
GROUP_COMMIT_MS=${GROUP_COMMIT_MS:-2}
DIR=${PGRID_CLUSTER_DIR:-/tmp/pgrid-cluster}
CLUSTER_ID=${CLUSTER_ID:-loopback}
CLUSTER_SECRET=${CLUSTER_SECRET:-loopback-cluster-secret-change-me}
OUT=$DIR/bin

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_bin() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "installing PostgreSQL (apt-get install postgresql)..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1
}

url() { echo "http://127.0.0.1:$((HTTP_BASE + $1))"; }
h2c_url() { echo "http://127.0.0.1:$((H2C_BASE + $1))"; }

start_postgres() {
  local bin; bin=$(pg_bin)
  mkdir -p "$DIR"
  if [ ! -d "$DIR/pg" ]; then
    mkdir -p "$DIR/pg"; [ "$(id -u)" = 0 ] && chown postgres: "$DIR/pg"
    as_postgres "$bin/initdb" -D "$DIR/pg/data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$DIR/pg/data" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/log" -w \
      -o "-p $PG_PORT -k $DIR/pg -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  echo "PostgreSQL: Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
}

build() {
  if [ ! -f "$OUT/silo/PresenceGrid.Silo.dll" ] || [ -n "${REBUILD:-}" ]; then
    echo "building the silo and pgrid (Release)..."
    dotnet publish silo/PresenceGrid.Silo -c Release -o "$OUT/silo" --nologo -v q >/dev/null
    dotnet publish src/PresenceGrid.Cli -c Release -o "$OUT/pgrid" --nologo -v q >/dev/null
  fi
}

start_silo() {
  local i=$1
  cat > "$DIR/silo$i.yaml" <<YAML
server_name: localhost
silo_name: silo-$i
rc_presence:
  per_second: 0
cluster:
  cluster_id: $CLUSTER_ID
  postgres: "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
  silo_port: $((SILO_BASE + i))
  gateway_port: $((GATEWAY_BASE + i))
  secret: "$CLUSTER_SECRET"
  lease_ms: $LEASE_MS
  group_commit_ms: $GROUP_COMMIT_MS
YAML
  [ -n "${EXTRA_YAML:-}" ] && printf '%s\n' "$EXTRA_YAML" >> "$DIR/silo$i.yaml"
  # Silos that share cores (with each other, PostgreSQL and pgrid) do better when idle thread-pool
  # workers sleep at once instead of spinning first, and with a 64 MiB gen0 budget: a collection
  # stalls a silo for several ms on shared cores whatever its size, so fewer of them shorten the
  # latency tail (docs/cluster.md, "Silos that share cores").
  DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=${DOTNET_ThreadPool_UnfairSemaphoreSpinLimit:-0} \
  DOTNET_GCgen0size=${DOTNET_GCgen0size:-0x4000000} \
    nohup dotnet "$OUT/silo/PresenceGrid.Silo.dll" --config "$DIR/silo$i.yaml" --urls "$(url "$i")" --h2c-urls "$(h2c_url "$i")" >"$DIR/silo$i.log" 2>&1 &
  echo $! > "$DIR/silo$i.pid"
  for _ in $(seq 1 120); do
    curl -fs "$(url "$i")/healthz" >/dev/null 2>&1 && { echo "silo-$i: $(url "$i") (pid $(cat "$DIR/silo$i.pid"), log $DIR/silo$i.log)"; return; }
    kill -0 "$(cat "$DIR/silo$i.pid")" 2>/dev/null || { echo "silo-$i exited; log:"; tail -20 "$DIR/silo$i.log"; exit 1; }
    sleep 0.5
  done
  echo "silo-$i did not become healthy; log:"; tail -20 "$DIR/silo$i.log"; exit 1
}

stop_silos() {
  local pids=()
  for pid in "$DIR"/silo*.pid; do
    [ -f "$pid" ] || continue
    pids+=("$(cat "$pid")")
    kill -TERM "$(cat "$pid")" 2>/dev/null || true
    rm -f "$pid"
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
  done
}

case "${1:-}" in
  start)
    start_postgres; build
    for i in $(seq 0 $((SILOS - 1))); do start_silo "$i"; done ;;
  status)
    for i in $(seq 0 $((SILOS - 1))); do echo "silo-$i: $(curl -fs "$(url "$i")/v1/admin/cluster" || echo down)"; done ;;
  load)
    shift; build
    # H2C=1: pgrid speaks HTTP/2 (prior knowledge) to the silos' h2c endpoints.
    args=(); for i in $(seq 0 $((SILOS - 1))); do
      if [ -n "${H2C:-}" ]; then args+=(--url "$(h2c_url "$i")"); else args+=(--url "$(url "$i")"); fi
    done
    [ -n "${H2C:-}" ] && args+=(--h2c)
    # The generator shares the cores too: its idle workers sleep at once, like the silos'.
    DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=${DOTNET_ThreadPool_UnfairSemaphoreSpinLimit:-0} \
      dotnet "$OUT/pgrid/pgrid.dll" load "${args[@]}" "$@" ;;
  kill)
    kill -9 "$(cat "$DIR/silo$2.pid")"; rm -f "$DIR/silo$2.pid"; echo "killed silo-$2 (kill -9)" ;;
  restart)
    start_silo "$2" ;;
  stop)
    stop_silos
    as_postgres "$(pg_bin)/pg_ctl" -D "$DIR/pg/data" -m fast stop >/dev/null 2>&1 || true ;;
  clean)
    "$0" stop; rm -rf "$DIR" ;;
  *)
    sed -n '2,16p' "$0"; exit 2 ;;
esac
