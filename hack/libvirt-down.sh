#!/usr/bin/env bash
# Stops what hack/libvirt-up.sh started, by PID files only (never by process name).
#
#   hack/libvirt-down.sh                  the host's libvirtd: destroys griddesk's domains (gd-*),
#                                         then stops libvirtd and virtlogd
#   hack/libvirt-down.sh --instance NAME  one instance: destroys all its domains, stops its
#                                         daemons and ends its mount namespace
#   hack/libvirt-down.sh --all-instances  every instance under $GRIDDESK_LIBVIRT_DIR
set -euo pipefail
root=${GRIDDESK_LIBVIRT_DIR:-/var/lib/griddesk-libvirt}
log() { echo "libvirt-down: $*" >&2; }

stop_pidfile() { # stop_pidfile ENTER... FILE: TERM the process named in FILE (read inside ENTER)
  local file=${*: -1} pid
  pid=$("${@:1:$#-1}" cat "$file" 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

destroy_domains() { # destroy_domains FILTER ENTER...
  local filter=$1 d
  shift
  for d in $(timeout 10 "$@" virsh -q -c qemu:///system list --name 2>/dev/null || true); do
    [[ $d == $filter ]] && timeout 30 "$@" virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1 || true
  done
}

down_instance() {
  local name=$1 pidfile=$root/$1/ns.pid pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    destroy_domains "*" nsenter -t "$pid" -m --
    stop_pidfile nsenter -t "$pid" -m -- /run/libvirtd.pid
    stop_pidfile nsenter -t "$pid" -m -- /run/virtlogd.pid
    kill "$pid" 2>/dev/null || true
    log "instance $name stopped"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  --instance) down_instance "${2:?--instance needs a name}" ;;
  --all-instances)
    for f in "$root"/*/ns.pid; do [ -e "$f" ] && down_instance "$(basename "$(dirname "$f")")"; done ;;
  "")
    destroy_domains "gd-*"
    stop_pidfile /run/libvirtd.pid
    stop_pidfile /run/virtlogd.pid
    log "libvirtd stopped" ;;
  *) echo "usage: $0 [--instance NAME | --all-instances]" >&2; exit 2 ;;
esac
