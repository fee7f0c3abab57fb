#!/usr/bin/env bash
# The integration half of `make test` (also what `make test-stress` runs): a real libvirtd with
# QEMU and the bootable test image, a real SFTP file server for profiles, kwok for KubeVirt's
# node side, a real control plane of its own (separate directory and ports
# from `make run`'s, torn down afterwards), then the integration tests. Arguments go to jest
# (e.g. a path filter: hack/test-integration.sh pool-backoff).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
step() { printf '\n==> %s\n' "$*"; }

step "the build (dist/, which bin/griddesk runs: a test runs the commands make run prints)"
npm run --silent build

step "real libvirtd with QEMU and the bootable test image (for the libvirt tests)"
hack/libvirt-up.sh
echo "test image: $(hack/build-test-image.sh)"

step "real file server for profiles (OpenSSH's SFTP server on 127.0.0.1)"
eval "$(hack/fileserver-up.sh)"

step "kwok, standing in for KubeVirt's node side (built once from its Go module, cached)"
export GRIDDESK_KWOK=${GRIDDESK_KWOK:-$(hack/build-kwok.sh || true)}
echo "kwok: ${GRIDDESK_KWOK:-not built (the KubeVirt tests will fail and say so)}"

step "Debian's Chromium for the browser tests (driven by playwright-core)"
export GRIDDESK_CHROMIUM=${GRIDDESK_CHROMIUM:-$(hack/chromium-up.sh || true)}
echo "chromium: ${GRIDDESK_CHROMIUM:-not installed (the browser tests will fail and say so)}"

step "integration tests on a real control plane"
export GRIDDESK_CLUSTER_DIR=${GRIDDESK_TEST_CLUSTER_DIR:-$PWD/.griddesk/test-cluster}
export GRIDDESK_PORT_BASE=${GRIDDESK_TEST_PORT_BASE:-16443}
[ "${GRIDDESK_KEEP_CLUSTER:-}" = 1 ] || trap 'hack/cluster-down.sh' EXIT
start=$(date +%s%N)
eval "$(hack/cluster-up.sh)"
echo "control plane up in $(( ($(date +%s%N) - start) / 1000000 )) ms"
export KUBECTL=$GRIDDESK_CLUSTER_DIR/bin/kubectl
export GRIDDESK_HELM=${GRIDDESK_HELM:-$(hack/build-helm.sh 2>/dev/null || true)}
since=$(date -u '+%Y-%m-%d %H:%M:%S')
if ! npm run --silent test:integration -- "$@"; then
  step "diagnostics (integration tests failed)"
  hack/diagnose.sh "$since"
  exit 1
fi
