#!/usr/bin/env bash
# `make test`: static checks, unit tests, then the integration tests against a real control plane
# and a real libvirtd (hack/test-integration.sh). Arguments go to jest's integration run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
step() { printf '\n==> %s\n' "$*"; }

step "static checks (generated files, lint, format, types)"
npm run --silent verify-generated
npm run --silent lint
npm run --silent typecheck

step "unit tests (nothing but the project's Node on PATH)"
hack/test-unit.sh

exec hack/test-integration.sh "$@"
