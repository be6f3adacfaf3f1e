#!/usr/bin/env bash
# Runs every PresenceGrid test assembly and ends with one line: "N passed, N failed, N skipped".
# Usage: ./test.sh [extra dotnet test arguments]
# Needs only the .NET 10 SDK; it installs what tests need (Debian packages) when missing.
set -uo pipefail
cd "$(dirname "$0")"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The PostgreSQL cluster tests start a private server from the Debian binaries (or $PG_BIN).
if [ -z "${PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "Installing PostgreSQL (server binaries for the cluster tests)..."
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
    echo "Could not install postgresql; the PostgreSQL tests will fail and say how to get it."
  fi
fi

# --blame-hang-timeout turns a hung test into a failure with a dump instead of a stuck CI run.
dotnet test PresenceGrid.sln -c Release --nologo --blame-hang-timeout 5m "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

summary=$(awk '
  /^(Passed|Failed)! +- / {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
    }
    n++
  }
  END { printf "%d %d %d %d", p, f, s, n }' "$log")
read -r passed failed skipped assemblies <<<"$summary"

if [ "$status" -eq 0 ] && [ "$assemblies" -eq 0 ]; then
  echo "No test assembly reported a result: treating the run as failed."
  status=1
fi
build_errors=$(grep -cE ': error [A-Z]+[0-9]+:' "$log" || true)
if [ "$build_errors" -gt 0 ]; then
  echo "$build_errors build error lines (see above): the projects that did not build ran no tests; failing the run."
  status=1
fi
if [ "$skipped" -gt 0 ]; then
  echo "$skipped tests were skipped: a skipped test proves nothing; failing the run."
  status=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
