# griddesk — the two commands a person needs are `make run` and `make test`.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:/usr/local/go/bin:$(PATH)

.PHONY: help deps k8s-binaries helm-binary kwok-binary cluster-up cluster-down generate verify build test test-stress test-unit test-integration torture-profiles screenshots run clean bench bench-storm bench-steady bench-scale bench-drain bench-libvirt bench-profiles bench-portal

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json k8s-binaries ## install npm packages and build the control-plane binaries

k8s-binaries: ## build etcd, kube-apiserver, kube-controller-manager, kubectl from Go modules (cached)
	@hack/build-k8s.sh >/dev/null

helm-binary: ## build helm from its Go module (cached)
	@hack/build-helm.sh >/dev/null

kwok-binary: ## build kwok (stands in for KubeVirt's node side in tests) from its Go module (cached)
	@hack/build-kwok.sh >/dev/null

cluster-up: deps ## start a throwaway local control plane (prints the KUBECONFIG export)
	@hack/cluster-up.sh

cluster-down: ## stop the local control plane and delete its state
	@hack/cluster-down.sh

generate: node_modules/.package-lock.json ## regenerate CRDs and TypeScript types from src/api/schema
	npm run generate

verify: node_modules/.package-lock.json ## generated files current, lint, format, types
	npm run verify-generated
	npm run lint
	npm run typecheck

build: node_modules/.package-lock.json ## compile TypeScript to dist/
	npm run build

# test and run name a missing prerequisite (hack/prereqs.sh) before npm ci or any build starts.
test: ## everything CI runs: verify, build, unit tests, integration tests on a real control plane
	@hack/prereqs.sh test
	@$(MAKE) --no-print-directory deps
	@hack/test.sh

test-unit: node_modules/.package-lock.json ## unit tests only, with nothing but the project's Node on PATH (FILTER=jest path filter)
	@hack/test-unit.sh $(FILTER)

test-integration: ## integration tests only, on a real control plane and libvirtd (FILTER=jest path filter)
	@hack/prereqs.sh test
	@$(MAKE) --no-print-directory deps
	@hack/test-integration.sh $(FILTER)

test-stress: deps ## integration tests with all cores but one kept busy (FILTER=jest path filter, e.g. FILTER=drain-)
	@hack/test-stress.sh $(FILTER)

torture-profiles: deps ## profile torture: 50 logon/logoff cycles on two libvirt hosts, 20 SIGKILLs during sync, one cut upload (GRIDDESK_TORTURE_SEED replays)
	GRIDDESK_TORTURE_CYCLES=$${GRIDDESK_TORTURE_CYCLES:-50} GRIDDESK_TORTURE_KILLS=$${GRIDDESK_TORTURE_KILLS:-20} hack/test-integration.sh profile-torture

screenshots: deps ## the README's screenshots of the portal, taken by the browser test in real Chromium (docs/screenshots)
	GRIDDESK_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots hack/test-integration.sh portal-browser

run: ## local control plane + CRDs + examples + controller and agent
	@hack/prereqs.sh run
	@$(MAKE) --no-print-directory deps build
	@hack/run.sh

bench-storm: deps ## benchmark: 1,000 logons at once on 100 hosts, against the API server's floor
	npm run bench:storm

bench-steady: deps ## benchmark: 20 logons/s for 60 s with logoffs, against the floor
	npm run bench:steady

bench-scale: deps ## benchmark: 10,000 desktops and sessions on 1,000 hosts: memory, CPU at rest, restart
	npm run bench:scale

bench-drain: deps ## benchmark: the timeline of a deadline drain of 20 sessions
	npm run bench:drain

bench-libvirt: deps ## benchmark: Desktop created → Available on libvirt vs the same qemu-img + virsh by hand (root)
	hack/libvirt-up.sh && npm run bench:libvirt

bench-profiles: deps ## benchmark: profile sync of 1/10/100 MiB changes on a 1 GiB profile vs a full copy; what a profile adds to a logon vs the raw transfer
	npm run bench:profiles

bench-portal: deps ## benchmark: portal click → first frame on the canvas vs the same desktop's raw VNC connect (root)
	npm run bench:portal

bench: bench-storm bench-steady bench-scale ## the three fleet benchmarks

clean: cluster-down ## remove build output and local state
	rm -rf dist .griddesk
