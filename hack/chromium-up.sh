#!/usr/bin/env bash
# Debian's Chromium for the browser tests (driven by playwright-core, which downloads no browser).
# Installs the package when missing; prints the binary's path.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
fi
command -v chromium
