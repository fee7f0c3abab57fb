#!/usr/bin/env bash
# Installs helm from its Go module into a cache outside the repository:
#   ${GRIDDESK_CACHE:-$HOME/.cache/griddesk}/helm/<version>/bin/helm
# Skipped when the binary is already there. Prints the binary's path on stdout; progress goes
# to stderr.
#
# Built with `go install <pkg>@<version>` from outside any module (GOWORK=off), so that helm
# resolves its own dependencies: the Kubernetes module in hack/k8s replaces the k8s.io staging
# modules and would pin helm's dependencies to other versions.
#
# The ldflags are the ones helm's own Makefile sets. Without them `helm version` reports "v3.22"
# and, worse, helm's default Kubernetes version for `helm lint` and `helm template` (no cluster)
# stays at v1.20.0, so any chart with `kubeVersion: >=1.30.0-0` fails to lint or render.
set -euo pipefail
HELM_VERSION=${HELM_VERSION:-v3.22.0}
cache=${GRIDDESK_CACHE:-$HOME/.cache/griddesk}
bin="$cache/helm/$HELM_VERSION/bin"
helm="$bin/helm"

if [ -x "$helm" ]; then echo "$helm"; exit 0; fi

if ! command -v go >/dev/null; then
  if [ -x /usr/local/go/bin/go ]; then PATH=/usr/local/go/bin:$PATH; else
    echo "build-helm: 'go' is not on PATH (needs Go >= 1.26, /usr/local/go/bin)" >&2; exit 1
  fi
fi
mkdir -p "$bin"
work=$(mktemp -d "$cache/helm/$HELM_VERSION/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" # no go.mod here or above (the cache is outside the repository)
export GOWORK=off GO111MODULE=on CGO_ENABLED=0

# Helm's Makefile derives the default Kubernetes version from the client-go it is built with
# (k8s.io/client-go v0.N.M -> Kubernetes 1.N).
mod=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
[ -f "$mod" ] || { echo "build-helm: could not download helm.sh/helm/v3@$HELM_VERSION" >&2; exit 1; }
clientgo=$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$mod")
[[ "$clientgo" =~ ^v0\.([0-9]+)\. ]] || { echo "build-helm: no k8s.io/client-go version in $mod" >&2; exit 1; }
k8s_minor=${BASH_REMATCH[1]}

ldflags="-s -w"
ldflags+=" -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

start=$(date +%s)
echo "build-helm: building helm $HELM_VERSION (client-go $clientgo) ..." >&2
GOBIN="$work" go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
mv "$work/helm" "$helm.tmp.$$"
mv "$helm.tmp.$$" "$helm"
echo "build-helm: built in $(( $(date +%s) - start ))s: $("$helm" version --short)" >&2
echo "$helm"
