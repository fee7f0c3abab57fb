#!/usr/bin/env bash
# `make run`: a local control plane, the griddesk CRDs and example pools, the controller and a
# simulated agent serving three hosts of different sizes. Runs in the foreground; Ctrl-C stops
# the controller and agent (the control plane stays up: `make cluster-down` stops it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
# Node 24 from node_modules (the machine's own node may be older).
export PATH=$PWD/node_modules/.bin:$PATH
eval "$(hack/cluster-up.sh)"
state=$PWD/.griddesk/run
mkdir -p "$state"

echo "==> installing CRDs and examples"
kubectl apply --server-side --force-conflicts -f crds/ >/dev/null
kubectl wait --for=condition=Established --timeout=60s -f crds/ >/dev/null
kubectl apply --server-side --force-conflicts -f examples/hosts-simulated.yaml -f examples/pool-callcenter.yaml -f examples/pool-knowledge.yaml

griddesk() { node dist/cli/main.js "$@"; }
pids=()
cleanup() {
  echo; echo "==> stopping controller and agent (the control plane keeps running; make cluster-down stops it)"
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

echo "==> starting the controller and a simulated agent (logs in $state)"
griddesk controller --metrics-bind-address 127.0.0.1:8080 >"$state/controller.log" 2>&1 &
pids+=($!)
griddesk agent --adapter simulated --name sim-agent --hosts sim-small,sim-medium,sim-large \
  --state-dir "$state/simulated" --health-probe-bind-address 127.0.0.1:8090 >"$state/agent.log" 2>&1 &
pids+=($!)

echo "==> waiting for the callcenter pool to fill its warm buffer"
for _ in $(seq 120); do
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a griddesk process exited; last log lines:" >&2; tail -n 20 "$state"/*.log >&2; exit 1; }
  done
  avail=$(kubectl get desktoppool callcenter -n team-a -o jsonpath='{.status.available}' 2>/dev/null || true)
  want=$(kubectl get desktoppool callcenter -n team-a -o jsonpath='{.spec.buffer}')
  [ "${avail:-0}" -ge "$want" ] && break
  sleep 1
done
griddesk status

cat <<MSG

griddesk is running: controller (metrics http://127.0.0.1:8080/metrics) and a simulated agent
serving sim-small, sim-medium and sim-large. In another shell:

  export KUBECONFIG=$KUBECONFIG
  export PATH=$(dirname "$(command -v kubectl)"):\$PATH      # kubectl matching the server
  kubectl get griddesk -n team-a                          # pools, desktops, sessions
  kubectl get hostnodes                                   # hosts, allocation, readiness
  kubectl create -f examples/session.yaml                 # log on as alice
  kubectl get desktopsessions -n team-a -w                # watch it become Ready with an endpoint
  kubectl delete desktopsessions -n team-a --all          # log off: the desktop is destroyed, the buffer refills
  node dist/cli/main.js status                            # the same as a table

Logs: $state/controller.log, $state/agent.log. Ctrl-C stops griddesk.
MSG
wait -n "${pids[@]}"
echo "a griddesk process exited; see $state/*.log" >&2
exit 1
