#!/usr/bin/env bash
# `make test-stress`: the integration tests (or those matching the jest path filters given) while
# CPU burners keep all but one of the machine's cores busy, as a CI machine shared with other
# work is. A test that reads a status once instead of waiting for it, or bounds a wall-clock
# figure, fails here before it fails in CI at random. The burners are this script's children in
# their own process group, stopped however the run ends (success, failure, Ctrl-C).
#   hack/test-stress.sh [JEST-PATH-FILTER…]
#   GRIDDESK_STRESS_BURNERS=N  how many cores to keep busy (default: cores − 1, at least 1)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."

cores=$(nproc)
burners=${GRIDDESK_STRESS_BURNERS:-$(( cores > 1 ? cores - 1 : 1 ))}
[[ "$burners" =~ ^[0-9]+$ ]] || { echo "GRIDDESK_STRESS_BURNERS must be a whole number, not '$burners'" >&2; exit 2; }

# setsid gives the burners a process group of their own, so one kill stops all of them and
# nothing of theirs outlives this script (make test-stress must always return).
setsid bash -c 'for _ in $(seq "$1"); do (while :; do :; done) & done; wait' burn "$burners" &
burn_pgid=$!
stop_burners() { kill -TERM -- "-$burn_pgid" 2>/dev/null || true; wait "$burn_pgid" 2>/dev/null || true; }
trap stop_burners EXIT
trap 'exit 130' INT TERM
printf '==> %s CPU burner(s) on %s core(s) (process group %s) for the whole run\n' "$burners" "$cores" "$burn_pgid"

start=$(date +%s)
status=0
hack/test-integration.sh "$@" || status=$?
printf '\n==> stress run %s in %s s with %s burner(s) on %s core(s)\n' \
  "$([ "$status" = 0 ] && echo passed || echo FAILED)" "$(( $(date +%s) - start ))" "$burners" "$cores"
exit "$status"
