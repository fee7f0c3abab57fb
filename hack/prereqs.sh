#!/usr/bin/env bash
# What `make test` and `make run` need from the machine before they install anything: checked
# first, so a missing tool is named in one line before `npm ci` or the 20-minute Go build
# starts. Everything else (npm packages, Node 24, the control plane, kwok, Helm, Debian's
# libvirt, QEMU, OpenSSH and Chromium) the project installs itself.
#   hack/prereqs.sh test   root is required (libvirtd, QEMU and the SFTP server are set up as root)
#   hack/prereqs.sh run    root is optional (without it `make run` has simulated hosts only)
set -euo pipefail
for_what=${1:-test}
missing=()

need() { # command what-to-install
  command -v "$1" >/dev/null 2>&1 || missing+=("$1 ($2)")
}
major_minor() { sed -nE 's/^[^0-9]*([0-9]+)\.([0-9]+).*/\1 \2/p' <<<"$1"; }

if command -v node >/dev/null 2>&1; then
  read -r major _ < <(major_minor "$(node --version)")
  [ "${major:-0}" -ge 20 ] || missing+=("Node.js >= 20 (found $(node --version); Node 24 itself comes from npm)")
else
  missing+=("Node.js >= 20 (node; Node 24 itself comes from npm)")
fi
need npm "npm 11, with Node.js"
if command -v go >/dev/null 2>&1; then
  read -r gmaj gmin < <(major_minor "$(go env GOVERSION 2>/dev/null || echo go0.0)")
  if [ "${gmaj:-0}" -lt 1 ] || { [ "${gmaj:-0}" -eq 1 ] && [ "${gmin:-0}" -lt 26 ]; }; then
    missing+=("Go >= 1.26 (found $(go env GOVERSION 2>/dev/null); https://go.dev/dl into /usr/local/go)")
  fi
else
  missing+=("Go >= 1.26 (go, in /usr/local/go/bin or on PATH; https://go.dev/dl)")
fi
need openssl "apt-get install openssl"
need curl "apt-get install curl"
need make "apt-get install make"
if [ "$for_what" = test ]; then
  [ "$(id -u)" = 0 ] || missing+=("root (make test installs and starts libvirtd, QEMU and an SFTP server)")
  need apt-get "Debian 12: the libvirt, QEMU, OpenSSH and Chromium parts come from Debian's archive"
fi

if [ "${#missing[@]}" -gt 0 ]; then
  joined=$(printf '; %s' "${missing[@]}")
  echo "make $for_what needs, and this machine lacks: ${joined:2}" >&2
  exit 1
fi
