# daemoncheck Makefile. A fresh machine needs only Go and kubectl: every other
# tool is pinned in go.mod (`go tool ...`) or built from modules into a cache
# outside the repository.
SHELL := bash
GO ?= go
export GOTOOLCHAIN := local
PKG := github.com/daemoncheck/daemoncheck
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X $(PKG)/pkg/version.Version=$(VERSION) -X $(PKG)/pkg/version.Commit=$(COMMIT) -X $(PKG)/pkg/version.Date=$(DATE)
BIN := bin/kubectl-daemoncheck

.PHONY: all build demo test unit vet fmt-check
all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kubectl-daemoncheck

## demo: run the plugin on the bundled snapshot of a realistic cluster (no cluster needed).
demo: build
	@./$(BIN) -f test/fixtures/demo-cluster.yaml; rc=$$?; echo; echo "(exit code $$rc: 0 healthy, 1 findings, 2 usage, 3 input/cluster error)"

## test: everything CI runs (.ci/run calls this).
test: fmt-check vet unit

unit:
	$(GO) test ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l cmd pkg test 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# ---- release (krew, goreleaser) ----

# ---- end release ----

# ---- e2e rig ----
# A real control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok) built from Go modules into a cache outside the repo
# (override with DAEMONCHECK_RIG_BIN). First build ~7-10 min on 2 cores.
.PHONY: e2e-deps e2e
E2E_FLAGS ?=

## e2e-deps: build (once) and cache the control-plane binaries for the e2e rig.
e2e-deps:
	@test/controlplane/build.sh >/dev/null

## e2e: run the differential e2e suite against the real control plane.
e2e: e2e-deps
	$(GO) test -tags e2e -count=1 -timeout 30m ./test/e2e/... $(E2E_FLAGS)

# ---- end e2e rig ----
