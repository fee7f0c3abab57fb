#!/usr/bin/env bash
# Starts a throwaway local control plane — etcd, kube-apiserver, kube-controller-manager —
# on 127.0.0.1, built from Go modules by hack/build-k8s.sh. Idempotent: when the cluster in
# $GRIDDESK_CLUSTER_DIR is already healthy it only prints how to reach it.
#
#   GRIDDESK_CLUSTER_DIR  state directory (default: <repo>/.griddesk/cluster)
#   GRIDDESK_PORT_BASE    apiserver port; etcd uses +1/+2, controller-manager +3 (default 6443)
#
# Writes $GRIDDESK_CLUSTER_DIR/kubeconfig (admin, system:masters) and prints `export KUBECONFIG=…`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
dir=${GRIDDESK_CLUSTER_DIR:-$repo/.griddesk/cluster}
base=${GRIDDESK_PORT_BASE:-6443}
api_port=$base etcd_port=$((base + 1)) peer_port=$((base + 2)) kcm_port=$((base + 3))
mkdir -p "$dir/pki" "$dir/logs" "$dir/run"
dir=$(cd "$dir" && pwd)
log() { echo "cluster-up: $*" >&2; }

bin=$("$here/build-k8s.sh")
ln -sfn "$bin" "$dir/bin"

alive() { [ -f "$dir/run/$1.pid" ] && kill -0 "$(cat "$dir/run/$1.pid")" 2>/dev/null; }
wait_url() { # name url seconds [curl args...]
  local name=$1 url=$2 secs=$3; shift 3
  for ((i = 0; i < secs * 5; i++)); do
    if curl -fsS --max-time 2 "$@" "$url" >/dev/null 2>&1; then return 0; fi
    alive "$name" || { log "$name exited; last log lines:"; tail -n 20 "$dir/logs/$name.log" >&2; return 1; }
    sleep 0.2
  done
  log "$name not healthy at $url after ${secs}s; last log lines:"; tail -n 20 "$dir/logs/$name.log" >&2; return 1
}
start() { # name cmd...
  local name=$1; shift
  alive "$name" && return 0
  setsid "$@" >"$dir/logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$dir/run/$name.pid"
}

# --- PKI (once per cluster directory) -------------------------------------------------------
pki=$dir/pki
sign() { # name subject [san] — each file made once per cluster directory
  [ -f "$pki/$1.crt" ] && return 0
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$pki/$1.key" -out "$pki/$1.csr" 2>/dev/null
  local ext=$pki/$1.ext
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n' >"$ext"
  if [ -n "${3:-}" ]; then printf 'extendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$3" >>"$ext"
  else printf 'extendedKeyUsage=clientAuth\n' >>"$ext"; fi
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 3650 -extfile "$ext" -out "$pki/$1.crt" 2>/dev/null
  rm -f "$pki/$1.csr" "$ext"
}
if [ ! -f "$pki/ca.crt" ]; then
  log "generating PKI in $pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=griddesk-local-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi
sign apiserver "/CN=kube-apiserver" \
  "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
sign admin "/O=system:masters/CN=griddesk-admin"
# The controller-manager runs its controllers under its own identity (no per-controller service
# accounts), so it needs the rights of all of them: namespace deletion, garbage collection.
sign controller-manager-admin "/O=system:masters/CN=system:kube-controller-manager"

kubeconfig() { # file user
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: griddesk-local
  cluster: {server: "https://127.0.0.1:$api_port", certificate-authority: "$pki/ca.crt"}
users:
- name: $2
  user: {client-certificate: "$pki/$2.crt", client-key: "$pki/$2.key"}
contexts:
- name: griddesk-local
  context: {cluster: griddesk-local, user: $2}
current-context: griddesk-local
KC
}
kubeconfig "$dir/kubeconfig" admin
kubeconfig "$dir/controller-manager.kubeconfig" controller-manager-admin

# --- etcd -----------------------------------------------------------------------------------
# Data on /dev/shm (tmpfs) without fsync: a throwaway cluster needs speed, not durability.
data=/dev/shm/griddesk-etcd-$(echo "$dir" | md5sum | cut -c1-8)
start etcd "$bin/etcd" --name=griddesk --data-dir="$data" --unsafe-no-fsync \
  --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
  --listen-peer-urls="http://127.0.0.1:$peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
  --initial-cluster="griddesk=http://127.0.0.1:$peer_port" --listen-metrics-urls="" --log-level=warn
echo "$data" >"$dir/run/etcd.data"
wait_url etcd "http://127.0.0.1:$etcd_port/health" 60

# --- kube-apiserver -------------------------------------------------------------------------
# GRIDDESK_APISERVER_PROFILING=true serves /debug/pprof (for `kubectl get --raw` CPU profiles).
# The host may have a default route, but nothing may dial outside loopback: advertise
# 127.0.0.1 and let no reconciler publish it as the `kubernetes` Service endpoint.
start kube-apiserver "$bin/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$etcd_port" --bind-address=127.0.0.1 --secure-port="$api_port" \
  --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
  --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --client-ca-file="$pki/ca.crt" --authorization-mode=Node,RBAC \
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$pki/sa.pub" \
  --service-account-signing-key-file="$pki/sa.key" --service-cluster-ip-range=10.0.0.0/24 \
  --allow-privileged=true --profiling="${GRIDDESK_APISERVER_PROFILING:-false}" --v=1
wait_url kube-apiserver "https://127.0.0.1:$api_port/readyz" 180 \
  --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key"

# --- kube-controller-manager ----------------------------------------------------------------
# Only what griddesk relies on: namespace deletion, owner-reference garbage collection, and
# service-account tokens (for the Helm chart's pods and RBAC tests).
start kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig="$dir/controller-manager.kubeconfig" --authentication-kubeconfig="$dir/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$dir/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$kcm_port" --leader-elect=false \
  --controllers=namespace,garbagecollector,serviceaccount,serviceaccount-token \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --use-service-account-credentials=false --v=1
wait_url kube-controller-manager "https://127.0.0.1:$kcm_port/healthz" 60 -k

log "control plane ready ($("$bin/kubectl" --kubeconfig "$dir/kubeconfig" version -o json 2>/dev/null \
  | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1)) — logs in $dir/logs"
echo "export KUBECONFIG=$dir/kubeconfig PATH=$bin:\$PATH"
