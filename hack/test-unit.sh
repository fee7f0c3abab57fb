#!/usr/bin/env bash
# The unit half of `make test` (and `make test-unit`): jest's unit project with a PATH that holds
# nothing but the project's own Node, so a unit test that needs another program (qemu-img,
# kubectl, openssl) fails here as it would on a fresh machine. jest.config.js also replaces
# child_process for these tests. Arguments go to jest (e.g. a path filter).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
node=$(readlink -f node_modules/.bin/node)
only_node=$(mktemp -d)
trap 'rm -rf "$only_node"' EXIT
ln -s "$node" "$only_node/node"
PATH=$only_node "$node" --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects unit -- "$@"
