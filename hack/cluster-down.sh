#!/usr/bin/env bash
# Stops the local control plane started by hack/cluster-up.sh and deletes its state
# (etcd data on /dev/shm, PKI, logs). For `make run`'s cluster it also destroys the QEMU domains
# of `make run`'s libvirt host and their overlays: their Desktops go with the cluster, and
# nothing else would stop them. Safe to run when nothing is running.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${GRIDDESK_CLUSTER_DIR:-$here/../.griddesk/cluster}
[ -d "$dir" ] || exit 0
for name in kube-controller-manager kube-apiserver etcd; do
  pidfile=$dir/run/$name.pid
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done
[ -f "$dir/run/etcd.data" ] && rm -rf "$(cat "$dir/run/etcd.data")"
rm -rf "$dir"
echo "cluster-down: stopped and removed $dir" >&2

root=$(cd "$here/.." && pwd)
source "$here/run.env"
storage=$run_libvirt_storage
if [ "$(realpath -m "$dir")" = "$root/.griddesk/cluster" ] && [ -d "$storage/overlays" ] &&
  command -v virsh >/dev/null; then
  for dom in $(virsh -q -c qemu:///system list --name 2>/dev/null | grep '^gd-' || true); do
    if virsh -q -c qemu:///system domblklist "$dom" 2>/dev/null | grep -qF " $storage/"; then
      virsh -q -c qemu:///system destroy "$dom" >/dev/null 2>&1 && echo "cluster-down: destroyed $dom" >&2
    fi
  done
  rm -rf "$storage/overlays" "$storage/notices"
fi
