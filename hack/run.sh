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

# The CLI as a person runs it (bin/griddesk: the project's Node 24). It execs node, so a
# background process's $! is node's own PID.
pids=()
cleanup() {
  trap - EXIT INT TERM
  echo; echo "==> stopping controller and agent (the control plane keeps running; make cluster-down stops it)"
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

echo "==> starting the controller and a simulated agent (logs in $state)"
bin/griddesk controller --metrics-bind-address 127.0.0.1:8080 >"$state/controller.log" 2>&1 &
pids+=($!)
# The bootable test image (root only: it may install packages), which the libvirt host and the
# three-hypervisor pool below boot.
image=""
[ "$(id -u)" = 0 ] && image=$(hack/build-test-image.sh 2>"$state/test-image.log" || true)
# The test image as a pool's spec.image names it (file, sha256s, direct boot); $1: one more field.
image_spec() {
  cat <<IMG
  image:
    source: file://$image/golden.qcow2
    sha256: $(cat "$image/golden.qcow2.sha256")
    format: qcow2${1:+
    $1}
    boot:
      kernel: $image/vmlinuz
      kernelSha256: $(cat "$image/vmlinuz.sha256")
      initrd: $image/initrd.gz
      initrdSha256: $(cat "$image/initrd.gz.sha256")
      cmdline: "console=tty0 quiet"
IMG
}
# The sources an admin allows on these hosts: the examples' image directory and image server,
# and the test image's directory (the three-hypervisor pool spans a simulated host too).
bin/griddesk agent --adapter simulated --name sim-agent --hosts sim-small,sim-medium,sim-large \
  --allow-source-root /srv/images --allow-source-url-prefix https://images.example.com/golden/ \
  ${image:+--allow-source-root "$image"} \
  --state-dir "$state/simulated" --health-probe-bind-address 127.0.0.1:8090 >"$state/agent.log" 2>&1 &
pids+=($!)

# A real libvirt host too, when this machine can run one (root: packages, daemons, QEMU).
libvirt="no: not root, so only simulated hosts"
if [ "$(id -u)" = 0 ]; then
  if [ -n "$image" ] && hack/libvirt-up.sh >"$state/libvirt-up.log" 2>&1; then
    source hack/run.env
    mkdir -p "$run_libvirt_storage" && chmod 755 "$run_libvirt_storage"
    bin/griddesk agent --adapter libvirt --name libvirt-agent --host-name local-libvirt --storage-path "$run_libvirt_storage" \
      --allow-source-root "$image" \
      --host-labels griddesk.io/demo=libvirt --health-probe-bind-address 127.0.0.1:8091 >"$state/libvirt-agent.log" 2>&1 &
    pids+=($!)
    # Users' profiles on a real file server (OpenSSH's SFTP server on 127.0.0.1), its
    # credentials in a Secret beside the pool, as an admin would give them.
    profile=""
    if eval "$(hack/fileserver-up.sh 2>>"$state/libvirt-up.log")"; then
      kubectl -n team-a create secret generic local-profile-store --dry-run=client -o yaml \
        --from-literal=username="$GRIDDESK_SFTP_USER" --from-file=ssh-privatekey="$GRIDDESK_SFTP_KEY" \
        --from-file=ssh-hostkey="$GRIDDESK_SFTP_HOST_KEY" | kubectl apply --server-side --force-conflicts -f - >/dev/null
      profile="
  session: {persistence: ProfileManaged}
  profile:
    store: {address: 'sftp://$GRIDDESK_SFTP_HOST:$GRIDDESK_SFTP_PORT', path: '$GRIDDESK_SFTP_ROOT', secretRef: {name: local-profile-store}}
    quota: 256Mi
    concurrentSession: Refuse"
    fi
    kubectl apply --server-side --force-conflicts -f - >/dev/null <<POOL
apiVersion: griddesk.io/v1alpha1
kind: DesktopPool
metadata: {name: local-libvirt, namespace: team-a}
spec:
$(image_spec)
  resources: {cpu: 500m, memory: 192Mi, disk: 1Gi}
  hostSelector: {matchLabels: {griddesk.io/demo: libvirt}}
  min: 0
  max: 2
  buffer: 1
  access: {groups: [staff]}$profile
POOL
    libvirt="yes: agent libvirt-agent serves host local-libvirt on qemu:///system; pool team-a/local-libvirt boots real QEMU desktops"
    [ -n "$profile" ] && libvirt="$libvirt, with users' profiles on the SFTP server at $GRIDDESK_SFTP_HOST:$GRIDDESK_SFTP_PORT"
  else
    libvirt="no: libvirt could not be set up (see $state/libvirt-up.log), so only simulated hosts"
  fi
fi
echo "==> libvirt: $libvirt"

# A KubeVirt host too: KubeVirt's CRDs (generated from KubeVirt's own API description) and a Node
# that kwok keeps Ready, kwok's Stages standing in for KubeVirt's node side (no kubelet or
# container runtime here: the VMIs go Scheduled and Running, nothing boots); the KubeVirt agent
# serves the Node as a HostNode, its VMIs in namespace griddesk-desktops.
kubevirt="no: kwok could not be built (see $state/kwok-build.log)"
if kwok=$(hack/build-kwok.sh 2>"$state/kwok-build.log"); then
  kubectl apply --server-side --force-conflicts -f third_party/kubevirt/crds/ >/dev/null
  kubectl wait --for=condition=Established --timeout=60s -f third_party/kubevirt/crds/ >/dev/null
  for _ in $(seq 150); do kubectl get --raw /openapi/v3 | grep -q '"apis/kubevirt.io/v1"' && break; sleep 0.2; done
  stages=$(dirname "$(dirname "$kwok")")/stages
  "$kwok" --kubeconfig="$KUBECONFIG" --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip=127.0.0.1 -c "$stages/node-initialize.yaml" -c "$stages/node-heartbeat.yaml" -c hack/kwok-kubevirt-stages.yaml \
    >"$state/kwok.log" 2>&1 &
  pids+=($!)
  kubectl create namespace griddesk-desktops --dry-run=client -o yaml | kubectl apply --server-side -f - >/dev/null
  kubectl apply --server-side --force-conflicts -f - >/dev/null <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kubevirt-node-1
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: kubevirt-node-1, kubevirt.io/schedulable: "true", topology.kubernetes.io/zone: local}
spec:
  taints: [{key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule}]
status:
  allocatable: {cpu: "8", memory: 32Gi, ephemeral-storage: 500Gi, pods: "110"}
  capacity: {cpu: "8", memory: 32Gi, ephemeral-storage: 500Gi, pods: "110"}
NODE
  bin/griddesk agent --adapter kubevirt --name kubevirt-agent --vmi-namespace griddesk-desktops \
    --allow-container-disk-prefix registry.example.com/golden/ \
    --health-probe-bind-address 127.0.0.1:8092 >"$state/kubevirt-agent.log" 2>&1 &
  pids+=($!)
  kubevirt="yes: agent kubevirt-agent serves host kubevirt-node-1 (a kwok Node; kwok stands in for KubeVirt's node side)"
fi
echo "==> kubevirt: $kubevirt"

# One pool across the three kinds of host: the test image as a file (libvirt, simulated) and as a
# containerDisk (KubeVirt), on the hosts an admin labelled griddesk.io/grid. One desktop at a
# time per host (maxProvisioningPerHost), so its three warm desktops land one on each kind.
if [ -n "${image:-}" ] && [ "${kubevirt%%:*}" = yes ]; then
  for h in local-libvirt kubevirt-node-1 sim-medium; do
    for _ in $(seq 60); do kubectl get hostnode "$h" >/dev/null 2>&1 && break; sleep 1; done
    kubectl label hostnode "$h" griddesk.io/grid=yes --overwrite >/dev/null
  done
  sha=$(cat "$image/golden.qcow2.sha256")
  kubectl apply --server-side --force-conflicts -f - >/dev/null <<POOL
apiVersion: griddesk.io/v1alpha1
kind: DesktopPool
metadata: {name: grid, namespace: team-a}
spec:
$(image_spec "containerDisk: registry.example.com/golden/test-desktop@sha256:$sha")
  resources: {cpu: 500m, memory: 192Mi, disk: 1Gi}
  hostSelector: {matchLabels: {griddesk.io/grid: "yes"}}
  placement: {maxProvisioningPerHost: 1}
  min: 0
  max: 4
  buffer: 3
POOL
  grid="pool team-a/grid: three warm desktops, one on each kind of host (kubectl get desktops -n team-a -l griddesk.io/pool=grid -o wide)"
else
  grid="no three-hypervisor pool: it needs both the libvirt and the KubeVirt host"
fi
echo "==> $grid"

# The users' way in: a lab identity provider (oidc-provider, hack/lab-idp.ts) and the broker, both
# on loopback over HTTPS with a self-signed certificate made here; alice and bob, in group staff,
# may use the libvirt pool. Their passwords are made once and kept in $state/broker.
echo "==> starting the lab identity provider and the broker"
b=$state/broker
mkdir -p "$b" && chmod 700 "$b"
if [ ! -s "$b/tls.crt" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$b/tls.key" -out "$b/tls.crt" \
    -days 365 -subj /CN=griddesk-lab -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
  head -c 48 /dev/urandom >"$b/signing.key"
  head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$b/oidc-client-secret"
  for u in alice bob; do head -c 9 /dev/urandom | base64 | tr -d '/+=' >"$b/$u.password"; done
  {
    echo "users:"
    for u in alice bob; do
      printf '  - name: %s\n    passwordHash: "%s"\n    groups: [staff]\n' "$u" "$(bin/griddesk hash-password <"$b/$u.password")"
    done
  } >"$b/users.yaml"
fi
node --import tsx hack/lab-idp.ts --port 8444 --tls-cert-file "$b/tls.crt" --tls-key-file "$b/tls.key" \
  --users-file "$b/users.yaml" --client-secret-file "$b/oidc-client-secret" \
  --redirect-uri https://127.0.0.1:8443/auth/callback --redirect-uri https://localhost:8443/auth/callback >"$state/idp.log" 2>&1 &
pids+=($!)
NODE_EXTRA_CA_CERTS=$b/tls.crt bin/griddesk broker --bind-address 127.0.0.1:8443 --health-probe-bind-address 127.0.0.1:8093 \
  --tls-cert-file "$b/tls.crt" --tls-key-file "$b/tls.key" --signing-key-file "$b/signing.key" \
  --oidc-issuer https://127.0.0.1:8444 --oidc-client-secret-file "$b/oidc-client-secret" \
  --external-url https://127.0.0.1:8443 --static-users-file "$b/users.yaml" >"$state/broker.log" 2>&1 &
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
bin/griddesk status

RUN_LIBVIRT=$libvirt RUN_KUBEVIRT=$kubevirt RUN_GRID=$grid hack/run-message.sh "$state"
wait -n "${pids[@]}"
echo "a griddesk process exited; see $state/*.log" >&2
exit 1
