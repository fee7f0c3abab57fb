#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and kubectl of one Kubernetes version
# (hack/k8s-version.env) from the Go module proxy into a cache outside the repository:
#   ${GRIDDESK_CACHE:-$HOME/.cache/griddesk}/k8s/<version>/bin
# Skipped when the binaries for that version are already there. Prints the bin directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091
source "$here/k8s-version.env"
cache=${GRIDDESK_CACHE:-$HOME/.cache/griddesk}
bin="$cache/k8s/$K8S_VERSION/bin"
tools=(etcd kube-apiserver kube-controller-manager kubectl)

have_all() { for t in "${tools[@]}"; do [ -x "$bin/$t" ] || return 1; done; }
if have_all; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "build-k8s: 'go' is not on PATH (needs Go >= 1.26, /usr/local/go/bin)" >&2; exit 1; }
mkdir -p "$bin"
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
# Without these the servers report v0.0.0-master, which breaks version checks (Helm's kubeVersion).
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
start=$(date +%s)
cd "$here/k8s"
build() { # name package
  [ -x "$bin/$1" ] && return 0
  echo "build-k8s: building $1 ($K8S_VERSION) ..." >&2
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin/$1.tmp" "$2" >&2
  mv "$bin/$1.tmp" "$bin/$1"
}
build etcd go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build kubectl k8s.io/kubernetes/cmd/kubectl
echo "build-k8s: built in $(( $(date +%s) - start ))s into $bin" >&2
echo "$bin"
