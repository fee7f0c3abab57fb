#!/usr/bin/env bash
# Installs kwok (sigs.k8s.io/kwok, the Kubernetes project's simulator of nodes and of any
# resource's lifecycle through Stage objects) from its Go module into a cache outside the
# repository:
#   ${GRIDDESK_CACHE:-$HOME/.cache/griddesk}/kwok/<version>/bin/kwok
# and copies kwok's own node Stages (initialize, heartbeat) from the module beside it:
#   .../kwok/<version>/stages/node-*.yaml
# Skipped when both are there. Prints the kwok binary's path on stdout; progress on stderr.
# The KubeVirt tests use it for what cannot run here (virt-handler, virt-launcher: no kubelet,
# no container runtime): Nodes that are Ready, and VMIs moved through their phases.
# Built from outside any module (GOWORK=off) so kwok resolves its own dependencies (see
# build-helm.sh for why). About 6 minutes on two cores, once.
set -euo pipefail
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
cache=${GRIDDESK_CACHE:-$HOME/.cache/griddesk}
dir="$cache/kwok/$KWOK_VERSION"
kwok="$dir/bin/kwok"

if [ -x "$kwok" ] && [ -s "$dir/stages/node-initialize.yaml" ] && [ -s "$dir/stages/node-heartbeat.yaml" ]; then
  echo "$kwok"; exit 0
fi

if ! command -v go >/dev/null; then
  if [ -x /usr/local/go/bin/go ]; then PATH=/usr/local/go/bin:$PATH; else
    echo "build-kwok: 'go' is not on PATH (needs Go >= 1.26, /usr/local/go/bin)" >&2; exit 1
  fi
fi
mkdir -p "$dir/bin" "$dir/stages"
work=$(mktemp -d "$dir/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export GOWORK=off GO111MODULE=on CGO_ENABLED=0

moddir=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
[ -d "$moddir" ] || { echo "build-kwok: could not download sigs.k8s.io/kwok@$KWOK_VERSION" >&2; exit 1; }
cp "$moddir/kustomize/stage/node/fast/node-initialize.yaml" "$dir/stages/node-initialize.yaml.tmp"
cp "$moddir/kustomize/stage/node/heartbeat/node-heartbeat.yaml" "$dir/stages/node-heartbeat.yaml.tmp"

if [ ! -x "$kwok" ]; then
  start=$(date +%s)
  echo "build-kwok: building kwok $KWOK_VERSION (about 6 minutes, once) ..." >&2
  GOBIN="$work" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
  mv "$work/kwok" "$kwok.tmp.$$"
  mv "$kwok.tmp.$$" "$kwok"
  echo "build-kwok: built in $(( $(date +%s) - start ))s" >&2
fi
for f in node-initialize node-heartbeat; do mv "$dir/stages/$f.yaml.tmp" "$dir/stages/$f.yaml"; done
echo "$kwok"
