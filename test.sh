#!/usr/bin/env bash
# Runs every PresenceGrid test assembly, then the Synapse module's Python tests (pytest), and ends
# with one line: "N passed, N failed, N skipped" (both counted).
# Usage: ./test.sh [extra dotnet test arguments]
# Needs only the .NET 10 SDK; it installs what tests need (Debian packages) when missing.
set -uo pipefail
cd "$(dirname "$0")"

log=$(mktemp)
pylog=$(mktemp)
trap 'rm -f "$log" "$pylog"' EXIT

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

# The Synapse module's tests (integrations/synapse) start the silo the build above produced. They
# need pytest and Twisted (the module's timeout is tested on Twisted, as Synapse runs it). No Python
# package index is reachable in CI, so both come from Debian (python3-pytest, python3-twisted, for
# /usr/bin/python3) when the python3 on PATH lacks them.
python=python3
if ! python3 -c 'import pytest, twisted' >/dev/null 2>&1; then
  python=/usr/bin/python3
  if ! "$python" -c 'import pytest, twisted' >/dev/null 2>&1; then
    echo "Installing python3-pytest and python3-twisted (for the Synapse module's tests)..."
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pytest python3-twisted >/dev/null; }; then
      echo "Could not install python3-pytest and python3-twisted; the Synapse module's tests cannot run: failing the run."
    fi
  fi
fi
PYTHONDONTWRITEBYTECODE=1 "$python" -m pytest integrations/synapse -q -p no:cacheprovider 2>&1 | tee "$pylog"
pystatus=${PIPESTATUS[0]}
# pytest's last line: "3 passed, 1 failed, 1 error in 2.1s"; errors count as failures.
pysummary=$(tail -n 1 "$pylog" | awk '
  { for (i = 2; i <= NF; i++) {
      w = $i; sub(/,$/, "", w)
      if (w == "passed") p += $(i-1); if (w == "failed" || w == "error" || w == "errors") f += $(i-1)
      if (w == "skipped" || w == "xfailed" || w == "xpassed") s += $(i-1)
  } }
  END { printf "%d %d %d", p, f, s }')
read -r pypassed pyfailed pyskipped <<<"$pysummary"
if [ "$pystatus" -ne 0 ]; then
  # Exit 5 is "no tests collected": the module's tests went missing, which fails the run too.
  echo "pytest exited with $pystatus (integrations/synapse): failing the run."
  status=1
  if [ "$pyfailed" -eq 0 ]; then pyfailed=1; fi
fi
passed=$((passed + pypassed)); failed=$((failed + pyfailed)); skipped=$((skipped + pyskipped))

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
