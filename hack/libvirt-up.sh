#!/usr/bin/env bash
# Brings up a libvirtd with QEMU on this machine (root only; no systemd, no KVM needed):
# installs the Debian packages that are missing, creates the QEMU user and directories, then
# starts virtlogd and libvirtd. Idempotent: a daemon that already answers is left alone.
#
#   hack/libvirt-up.sh                  the host's own libvirtd (qemu:///system)
#   hack/libvirt-up.sh --instance NAME  one more, independent libvirtd in its own mount
#                                       namespace (tmpfs /run, its own /var/lib/libvirt, log and
#                                       cache directories, its own VNC ports through its own
#                                       /etc/libvirt/qemu.conf); prints the PID to enter it with:
#                                       nsenter -t PID -m -- virsh -c qemu:///system list
# Instances keep their state under $GRIDDESK_LIBVIRT_DIR (default /var/lib/griddesk-libvirt).
set -euo pipefail
instance=""
while [ $# -gt 0 ]; do
  case "$1" in
    --instance) instance=${2:?--instance needs a name}; shift 2 ;;
    *) echo "usage: $0 [--instance NAME]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "libvirt-up: needs root (packages, daemons, mounts)" >&2; exit 1; }
log() { echo "libvirt-up: $*" >&2; }

packages=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# What libvirt-daemon-system would create: the unprivileged user QEMU runs as, and directories.
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null ||
  useradd --system --gid libvirt-qemu --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
mkdir -p /var/log/libvirt /run/libvirt /var/lib/libvirt/images /var/cache/libvirt
# What udev and Debian's packages would do for /dev/kvm: group kvm, mode 0660, the QEMU user in
# that group. Without it, on a machine whose /dev/kvm is root-only, libvirtd probes QEMU as root
# (KVM found), then finds /dev/kvm closed to the QEMU user, calls its capability cache stale and
# probes again on every call: `virsh create` never returns. Domains stay type='qemu' (TCG) either
# way, so a /dev/kvm that does not really work is never used.
if [ -c /dev/kvm ]; then
  getent group kvm >/dev/null || groupadd --system kvm
  chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
  id -nG libvirt-qemu | grep -qw kvm || usermod -a -G kvm libvirt-qemu
fi

# Daemons are asked, not looked for: a socket file left in /run by a daemon that was killed (a
# session ending) proves nothing, and libvirtd without virtlogd fails every domain start at once
# ("Failed to connect socket to '/run/libvirt/virtlogd-sock': Connection refused").
libvirtd_answers() { timeout 5 "$@" virsh -q -c qemu:///system version >/dev/null 2>&1; }
virtlogd_answers() { timeout 5 "$@" virt-admin -q -c virtlogd:///system srv-list >/dev/null 2>&1; }
# wait_for DAEMON [ENTER...]: up to 10 s for DAEMON (libvirtd or virtlogd), asked through ENTER.
wait_for() {
  local daemon=$1
  shift
  for _ in $(seq 100); do "${daemon}_answers" "$@" && return 0; sleep 0.1; done
  log "$daemon did not answer; see /var/log/libvirt/$daemon.log"; return 1
}

if [ -z "$instance" ]; then
  if ! virtlogd_answers; then
    virtlogd -d
    wait_for virtlogd
  fi
  if ! libvirtd_answers; then
    libvirtd -d
    wait_for libvirtd
    log "libvirtd up (qemu:///system)"
  fi
  exit 0
fi

case "$instance" in *[!a-z0-9-]* | "") log "instance names are [a-z0-9-]+"; exit 2 ;; esac
base=${GRIDDESK_LIBVIRT_DIR:-/var/lib/griddesk-libvirt}/$instance
pidfile=$base/ns.pid
if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && libvirtd_answers nsenter -t "$(cat "$pidfile")" -m --; then
  cat "$pidfile"
  exit 0
fi
mkdir -p "$base/lib/images" "$base/log" "$base/cache" "$base/etc"
# Every libvirtd on this machine shares its network namespace, so each instance gets its own
# range of VNC ports (the host's libvirtd keeps 5900-5999): two daemons picking the same free
# port at once made QEMU fail with "Failed to find an available port: Address already in use".
slot=$({
  flock 9
  if [ ! -s "$base/vnc-slot" ]; then
    last=$(cat "${base%/*}"/*/vnc-slot 2>/dev/null | sort -n | tail -1)
    echo $((${last:-0} + 1)) >"$base/vnc-slot"
  fi
  cat "$base/vnc-slot"
} 9>"${base%/*}/.vnc-slots.lock")
vnc_min=$((5900 + slot * 100))
cp -a /etc/libvirt/. "$base/etc/"
printf 'remote_display_port_min = %d\nremote_display_port_max = %d\n' "$vnc_min" $((vnc_min + 99)) >"$base/etc/qemu.conf"
# The namespace's first process mounts, starts both daemons (they fork away) and then holds the
# namespace open; its PID is what agents and scripts nsenter.
setsid unshare -m --propagation private -- bash -c '
  set -e
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -p /run/libvirt /run/lock
  mount --bind "$1/lib" /var/lib/libvirt
  mount --bind "$1/log" /var/log/libvirt
  mount --bind "$1/cache" /var/cache/libvirt
  mount --bind "$1/etc" /etc/libvirt
  virtlogd -d
  libvirtd -d
  exec sleep infinity' ns "$base" </dev/null >"$base/ns.log" 2>&1 &
echo $! >"$pidfile"
wait_for libvirtd nsenter -t "$(cat "$pidfile")" -m --
log "libvirtd instance $instance up (nsenter -t $(cat "$pidfile") -m; VNC ports $vnc_min-$((vnc_min + 99)))"
cat "$pidfile"
