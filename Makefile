# entra-link — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/entra-link
PKG := github.com/entra-link/entra-link
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
LDFLAGS := -X $(PKG)/internal/buildinfo.Version=$(VERSION) -X $(PKG)/internal/buildinfo.Commit=$(COMMIT)
GOLANGCI_VERSION := v2.15.0
TOOLS := $(CURDIR)/.tools
GOLANGCI := $(TOOLS)/golangci-lint-$(GOLANGCI_VERSION)

.PHONY: help build install demo test test-deps fmt-check bench test-clients lint fmt vet tidy clean

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/entra-link
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/entra-link

install: ## install entra-link into $(go env GOPATH)/bin (or $GOBIN), version stamped in
	$(GO) install -ldflags '$(LDFLAGS)' ./cmd/entra-link

demo: ## set up Entitle in the sandbox tenant (the README's "Try it")
	$(GO) run ./cmd/entra-link setup --profile entitle --sandbox

test: fmt-check vet test-deps ## gofmt check + go vet + all tests, then the real-client suite (the README's test command; what CI runs)
	$(GO) test -count=1 ./...
	$(MAKE) --no-print-directory test-clients

test-deps: ## install what the e2e tests need if missing (tmux, util-linux, iproute2; Debian, as root)
	@bash e2e/install-deps.sh

fmt-check: ## fail if gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench: ## setup of every profile, apps list and verify --all at 5 and 200 apps, delete — against the sandbox with 100 ms latency: wall time, requests, sequential round trips
	$(GO) test -run '^$$' -bench 'BenchmarkSetup|BenchmarkDayTwo' -benchtime 3x ./internal/cli/

test-clients: ## real Microsoft clients (msgraph-sdk-go, MSAL Node/Python, CLI for Microsoft 365, Azure CLI) against the sandbox; installs them first
	bash clienttest/install.sh
	$(GO) test -tags clients -count=1 -v -timeout 20m ./clienttest

vet: ## go vet
	$(GO) vet ./...

lint: $(GOLANGCI) ## golangci-lint (installed into .tools from the Go module proxy) + go mod tidy check
	$(GOLANGCI) run ./...
	$(GO) mod tidy -diff

$(GOLANGCI):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	mv $(TOOLS)/golangci-lint $(GOLANGCI)

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

tidy: ## go mod tidy
	$(GO) mod tidy

clean: ## remove build outputs
	rm -rf bin
