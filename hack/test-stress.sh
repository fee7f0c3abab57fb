#!/usr/bin/env bash
# `make test-stress`: the integration tests (or those matching the jest path filters given) while
# CPU burners keep all but one of the machine's cores busy, as a CI machine shared with other
# work is. A test that reads a status once instead of waiting for it, or bounds a wall-clock
# figure, fails here before it fails in CI at random.
#   hack/test-stress.sh [JEST-PATH-FILTER…]
#   GRIDDESK_STRESS_BURNERS=N  how many cores to keep busy (default: cores − 1, at least 1)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."

cores=$(nproc)
burners=${GRIDDESK_STRESS_BURNERS:-$(( cores > 1 ? cores - 1 : 1 ))}
[[ "$burners" =~ ^[0-9]+$ ]] || { echo "GRIDDESK_STRESS_BURNERS must be a whole number, not '$burners'" >&2; exit 2; }

# Each burner is a busy loop that also looks, every ~100,000 turns, whether this script still runs
# and ends if not: the EXIT trap stops them when the run ends however it ends, and even a SIGKILLed
# script leaves nothing burning behind it (make test-stress must always return, and leave the
# machine as it found it).
burner_pids=()
for _ in $(seq "$burners"); do
  bash -c 'while kill -0 "$1" 2>/dev/null; do for ((i = 0; i < 100000; i++)); do :; done; done' burn $$ &
  burner_pids+=("$!")
done
stop_burners() { kill "${burner_pids[@]}" 2>/dev/null || true; wait "${burner_pids[@]}" 2>/dev/null || true; }
trap stop_burners EXIT
trap 'exit 130' INT TERM
printf '==> %s CPU burner(s) on %s core(s) (pids %s) for the whole run\n' "$burners" "$cores" "${burner_pids[*]}"

start=$(date +%s)
status=0
hack/test-integration.sh "$@" || status=$?
printf '\n==> stress run %s in %s s with %s burner(s) on %s core(s)\n' \
  "$([ "$status" = 0 ] && echo passed || echo FAILED)" "$(( $(date +%s) - start ))" "$burners" "$cores"
exit "$status"
