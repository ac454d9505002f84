# daemoncheck Makefile. A fresh machine needs only Go and kubectl: every other
# tool is pinned in test/release/go.mod (run as $(GOTOOL) ...), in
# test/tools/go.mod (the linters, as $(LINTTOOL) ...) or built from modules into
# a cache outside the repository. The tools live in their own modules so the
# plugin's go.mod holds only what the plugin links.
SHELL := bash
GO ?= go
export GOTOOLCHAIN := local
PKG := github.com/daemoncheck/daemoncheck
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X $(PKG)/internal/version.Version=$(VERSION) -X $(PKG)/internal/version.Commit=$(COMMIT) -X $(PKG)/internal/version.Date=$(DATE)
BIN := bin/kubectl-daemoncheck
GOTOOL := $(GO) tool -modfile=test/release/go.mod
LINTTOOL := $(GO) tool -modfile=test/tools/go.mod

.PHONY: all build demo test unit vet fmt-check lint race fuzz demo-check deadcode
all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kubectl-daemoncheck

## demo: run the plugin on the bundled snapshot of a realistic cluster (no cluster needed).
demo:
	@test -x $(BIN) || echo "Building kubectl-daemoncheck (the first build downloads and compiles client-go: a few minutes on 2 cores)..."
	@$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kubectl-daemoncheck
	@./$(BIN) -f test/fixtures/demo-cluster.yaml --now 2026-11-23T12:00:00Z; rc=$$?; echo; echo "(exit code $$rc: 0 healthy, 1 findings, 2 usage, 3 input/cluster error)"

## test: everything CI runs (.ci/run calls this): static checks and linters, unit/golden/CLI
## and release tests, the core packages under the race detector, 30 s of each fuzz target,
## the demo snapshot against its generator, the release config check, and the e2e suite on
## a real control plane (the first run builds it: ~7.5 min on 2 cores, cached outside the repo).
## prometheus-deps first: the alert-rule tests of internal/serve run promtool.
test: prometheus-deps fmt-check vet lint unit race fuzz demo-check release-check chart-check browser e2e

unit:
	$(GO) test ./...
	cd test/release && $(GO) test ./...

vet:
	$(GO) vet ./...
	cd test/release && $(GO) vet ./...
	$(GO) vet -tags e2e ./test/e2e/
	$(GO) vet -tags browser,chart ./test/browser/ ./test/chart/

fmt-check:
	@out=$$(gofmt -l cmd internal pkg test 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## lint: golangci-lint with .golangci.yml (errcheck, govet, staticcheck, unused, gocritic,
## ineffassign), e2e files included.
lint:
	$(LINTTOOL) golangci-lint run --build-tags e2e ./...

## race: the unit tests of the core packages under the race detector, -short: two tests
## take minutes under -race on 2 cores and test no concurrency (make unit runs them in
## full): internal/audit's memo-versus-fresh-analysis walk runs shorter, internal/decode's
## peak-heap measurement of a 6 MB dump is skipped.
RACE_PKGS := ./internal/audit/... ./internal/collect/... ./internal/decode/... ./internal/whatif/... ./internal/explain/... ./internal/providers/... ./pkg/report/... ./internal/policy/... ./internal/rules/scheduling/... \
	./internal/rules/capacity/... ./internal/model/... ./internal/...
race:
	$(GO) test -race -short $(RACE_PKGS)

## fuzz: each fuzz target (func FuzzX in internal, pkg) for FUZZTIME; a crasher is written to the
## package's testdata/fuzz/FuzzX/ and fails the run: keep it there as a seed once fixed.
FUZZTIME ?= 30s
fuzz:
	@set -euo pipefail; targets=$$(grep -rEo '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' internal pkg | sort); \
	[ -n "$$targets" ] || { echo "fuzz: no fuzz target found" >&2; exit 1; }; \
	echo "$$targets" | while IFS=: read -r file fn; do \
		name=$${fn#func }; dir=./$$(dirname "$$file"); \
		echo "+ go test -run '^\$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) $$dir"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$dir"; \
	done

## demo-check: test/fixtures/demo-cluster.yaml is byte for byte what gendemo writes
## (on a mismatch: the diff, and the command that regenerates it).
demo-check:
	$(GO) test -count=1 -run '^TestDemoClusterMatchesGenerator$$' ./test/fixtures/gendemo

## deadcode: functions no command, test or e2e test reaches (x/tools deadcode; not part
## of test: it loads and analyses the whole program each time, ~40 s of CPU).
deadcode:
	@out=$$($(LINTTOOL) deadcode -test -tags e2e ./...); if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

# ---- release (krew, goreleaser) ----
# Archives come from .goreleaser.yaml, the krew-index manifest from the
# krew-release-bot template .krew.yaml; plugins/ holds the manifest rendered
# for a snapshot, the completion script and the RBAC. See plugins/INSTALL.md.
.PHONY: dist snapshot-build krew-manifest krew-install-local release-check
KREW_MANIFEST := plugins/daemoncheck.yaml
# The snapshot archive krew-install-local installs: this machine's platform.
KREW_ARCHIVE = dist/kubectl-daemoncheck_$(shell $(GO) env GOOS)_$(shell $(GO) env GOARCH).tar.gz
# goreleaser reads the commit (version, ldflags, mtimes) only if it can also read
# a remote URL: in a checkout without a remote a snapshot silently gets commit
# "none" and year-1 dates. Lend it the project URL through the environment.
GORELEASER_ENV = $(if $(shell git remote 2>/dev/null),,GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=https://github.com/daemoncheck/daemoncheck.git)

## dist: goreleaser snapshot for all six platforms into dist/ (archives, checksums.txt).
dist:
	$(GORELEASER_ENV) $(GOTOOL) goreleaser release --snapshot --clean

## snapshot-build: quick smoke test of the build config: this platform only, binary only.
snapshot-build:
	$(GORELEASER_ENV) $(GOTOOL) goreleaser build --snapshot --single-target --clean

## krew-manifest: rewrite plugins/daemoncheck.yaml from .krew.yaml and dist/ (after make dist).
krew-manifest:
	$(GO) -C test/release build -o $(CURDIR)/bin/krew-manifest ./cmd/krew-manifest && bin/krew-manifest -dist dist -o $(KREW_MANIFEST)
	$(GOTOOL) validate-krew-manifest -manifest $(KREW_MANIFEST) -skip-install

## krew-install-local: make dist, install this platform's archive with krew into a temporary
## KREW_ROOT (manifest rendered from the same dist), run it and its completion through kubectl.
krew-install-local: dist
	@set -euo pipefail; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	mkdir "$$tmp/manifest"; mf="$$tmp/manifest/daemoncheck.yaml"; \
	$(GO) -C test/release build -o $(CURDIR)/bin/krew-manifest ./cmd/krew-manifest && bin/krew-manifest -dist dist -o "$$mf"; \
	$(GOTOOL) validate-krew-manifest -manifest "$$mf" -skip-install 2>&1 | sed 's/^/  /'; \
	export KREW_ROOT="$$tmp/krew" PATH="$$tmp/krew/bin:$$PATH"; \
	$(GOTOOL) krew install --manifest="$$mf" --archive=$(KREW_ARCHIVE) </dev/null; \
	version=$$(sed -n 's/^  version: //p' "$$mf"); \
	echo "+ kubectl daemoncheck version"; out=$$(kubectl daemoncheck version); echo "$$out"; \
	grep -qF -- "$$version" <<<"$$out" || { echo "FAIL: kubectl daemoncheck version does not print $$version" >&2; exit 1; }; \
	cp "$$KREW_ROOT/store/daemoncheck/$$version/kubectl_complete-daemoncheck" "$$KREW_ROOT/bin/"; \
	echo "+ kubectl __complete daemoncheck --out"; out=$$(kubectl __complete daemoncheck --out); echo "$$out"; \
	grep -qx -- '--output.*' <<<"$$out" || { echo "FAIL: completion does not offer --output" >&2; exit 1; }; \
	echo "krew-install-local: OK ($$version from $(KREW_ARCHIVE))"

## release-check: goreleaser check; krew validation of plugins/daemoncheck.yaml and of .krew.yaml
## rendered for a fake tag; the quick release tests.
release-check:
	$(GOTOOL) goreleaser check
	$(GOTOOL) validate-krew-manifest -manifest $(KREW_MANIFEST) -skip-install
	@set -euo pipefail; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(GO) -C test/release build -o $(CURDIR)/bin/krew-manifest ./cmd/krew-manifest && bin/krew-manifest -fake-sha -tag v0.0.0-release-check -o "$$tmp/daemoncheck.yaml"; \
	echo "validate-krew-manifest: .krew.yaml rendered for v0.0.0-release-check"; \
	$(GOTOOL) validate-krew-manifest -manifest "$$tmp/daemoncheck.yaml" -skip-install
	cd test/release && $(GO) test -count=1 -short ./...

# ---- end release ----

# ---- e2e rig ----
# A real control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok) built from Go modules into a cache outside the repo
# (override with DAEMONCHECK_RIG_BIN). First build ~7-10 min on 2 cores.
.PHONY: e2e-deps e2e prometheus-deps
E2E_FLAGS ?=

## e2e-deps: build (once) and cache the control-plane binaries for the e2e rig, and install
## Prometheus (prometheus-deps) for the serve test.
e2e-deps: prometheus-deps
	@test/controlplane/build.sh >/dev/null

## prometheus-deps: install prometheus and promtool (Debian package prometheus, once) for the
## serve e2e test and the alert-rule tests (internal/serve). The package's own service is not
## started (policy-rc.d says no while apt runs) nor enabled, so nothing holds port 9090: the
## tests start their own Prometheus on a free port.
prometheus-deps:
	@command -v prometheus >/dev/null && command -v promtool >/dev/null || { \
		set -e; rc=/usr/sbin/policy-rc.d; own=; \
		if [ ! -e $$rc ]; then printf '#!/bin/sh\nexit 101\n' > $$rc; chmod +x $$rc; own=1; fi; \
		trap '[ -z "$$own" ] || rm -f '$$rc EXIT; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
		if [ -d /run/systemd/system ]; then systemctl disable --now prometheus; fi; \
		prometheus --version | head -1; }

## e2e: run the differential e2e suite against the real control plane.
e2e: e2e-deps helm
	$(GO) test -tags e2e -count=1 -timeout 30m ./test/e2e/... $(E2E_FLAGS)

## demo-live: a real control plane with a few dozen kwok nodes and DaemonSets; runs
## kubectl daemoncheck on it and keeps it up until Ctrl-C (DEMO_FLAGS=-exit to stop at once).
.PHONY: demo-live
DEMO_FLAGS ?=
demo-live: build e2e-deps
	$(GO) run ./test/demo/live -plugin $(BIN) $(DEMO_FLAGS)

# ---- end e2e rig ----

# ---- bench ----
# Cluster-scale benchmark, see test/bench/README.md: the analysis
# micro-benchmarks, then a 5,000-node fixture built once on the e2e rig,
# daemoncheck timed against kubectl and the raw list floor, a size sweep. Needs the
# rig binaries (make e2e-deps); ~30-40 min on 2 cores. Pass harness flags in
# BENCH_FLAGS, e.g. BENCH_FLAGS='-nodes 1000 -sweep 500 -rounds 3 -out /tmp/bench.md'.
.PHONY: bench bench-analyze
BENCH_FLAGS ?=

## bench: the analysis micro-benchmarks, then the cluster benchmark.
bench: e2e-deps bench-analyze
	$(GO) run ./test/bench/cmd/daemoncheck-bench $(BENCH_FLAGS)

## bench-analyze: analysis micro-benchmarks (5,000 nodes x 20 DaemonSets).
bench-analyze:
	$(GO) test ./internal/audit -run '^$$' -bench . -benchmem -count 3

# ---- end bench ----

# ---- page, chart, image ----
# The -o html page in a real browser (Debian's chromium), and the Helm chart
# and kustomize base in plugins/, checked with helm built from its module
# (pinned in test/helm/go.mod) and, in the e2e suite, by the real API server.
.PHONY: chromium browser helm chart-check
HELM := bin/helm
SCREENSHOTS ?=

## chromium: install Debian's chromium when it is missing (the browser test's browser).
chromium:
	@command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }

## browser: the -o html page of the demo and of a generated 5,000-node cluster in headless
## Chromium: DOM checks, and PNG screenshots into SCREENSHOTS (default: a temporary directory).
browser: chromium
	DAEMONCHECK_SCREENSHOTS=$(SCREENSHOTS) $(GO) test -tags browser -count=1 -timeout 15m ./test/browser/

## helm: build helm from its module into bin/helm (first build ~5-10 min on 2 cores, then cached).
helm:
	$(GO) -C test/helm build -o $(CURDIR)/$(HELM) helm.sh/helm/v4/cmd/helm

## chart-check: helm lint --strict and helm template of plugins/chart/daemoncheck, with the
## rendered manifests and the kustomize base checked (make e2e applies both with --dry-run=server).
chart-check: helm
	$(HELM) lint --strict plugins/chart/daemoncheck
	HELM=$(CURDIR)/$(HELM) $(GO) test -tags chart -count=1 ./test/chart/

# ---- end page, chart, image ----
