#!/usr/bin/env bash
# Brings up the profile file server for tests and `make run`: OpenSSH's SFTP server (root only;
# no systemd), listening on 127.0.0.1 only, with its own host key, its own client key and its own
# store directory. Idempotent: a server that already answers on the port is left alone.
# Prints shell exports for the tests and the agents (eval "$(hack/fileserver-up.sh)"):
#   GRIDDESK_SFTP_HOST, GRIDDESK_SFTP_PORT, GRIDDESK_SFTP_USER, GRIDDESK_SFTP_KEY (client key
#   file), GRIDDESK_SFTP_HOST_KEY (the server's public key, to pin), GRIDDESK_SFTP_ROOT (the
#   store's directory), GRIDDESK_SFTP_PIDFILE (the listener's pid: a test kills the connections
#   it forked, never the listener).
# Why SFTP: this kernel has no nfs or cifs modules, and OpenSSH's server gives every primitive a
# crash-safe publish needs (fsync, hardlink, posix-rename) to a pure-JS client (npm ssh2); see
# ../shared/PROFILES.md and src/profiles/README.md.
# State lives under $GRIDDESK_FILESERVER_DIR (default /var/lib/griddesk-fileserver).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "fileserver-up: needs root (packages, sshd)" >&2; exit 1; }
log() { echo "fileserver-up: $*" >&2; }
dir=${GRIDDESK_FILESERVER_DIR:-/var/lib/griddesk-fileserver}
port=${GRIDDESK_SFTP_PORT:-16522}

if ! dpkg-query -W -f='${Status}' openssh-server 2>/dev/null | grep -q "install ok installed"; then
  log "installing openssh-server"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >&2
fi

mkdir -p "$dir/store" /run/sshd
chmod 0700 "$dir"
[ -f "$dir/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C griddesk-fileserver -f "$dir/host_ed25519"
[ -f "$dir/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C griddesk-profiles -f "$dir/client_ed25519"
cp "$dir/client_ed25519.pub" "$dir/authorized_keys"
cat >"$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_ed25519
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
X11Forwarding no
AllowTcpForwarding no
ClientAliveInterval 5
ClientAliveCountMax 3
Subsystem sftp internal-sftp
ForceCommand internal-sftp
CONF

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && head -c 4 <&3" 2>/dev/null | grep -q SSH-; }
if answers; then
  log "sshd already answers on 127.0.0.1:$port"
else
  # A stale pid file from a killed server would only mislead the tests: start afresh.
  rm -f "$dir/sshd.pid"
  /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
  for _ in $(seq 50); do answers && break; sleep 0.1; done
  answers || { log "sshd did not come up; its log:"; tail -20 "$dir/sshd.log" >&2; exit 1; }
  log "sshd up on 127.0.0.1:$port (store $dir/store)"
fi

cat <<ENV
export GRIDDESK_SFTP_HOST=127.0.0.1
export GRIDDESK_SFTP_PORT=$port
export GRIDDESK_SFTP_USER=root
export GRIDDESK_SFTP_KEY=$dir/client_ed25519
export GRIDDESK_SFTP_HOST_KEY=$dir/host_ed25519.pub
export GRIDDESK_SFTP_ROOT=$dir/store
export GRIDDESK_SFTP_PIDFILE=$dir/sshd.pid
ENV
