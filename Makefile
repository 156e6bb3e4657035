# eolwatch — `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/eolwatch/eolwatch/agent.Version=$(VERSION)
RUN_DIR := .run
ENDOFLIFE ?= ../shared/data/endoflife

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/eolwatch-server, bin/eolwatch-agent (CGO_ENABLED=0) and bin/eolwatch-loadgen
	@mkdir -p $(BIN)
	$(GO) build -trimpath -o $(BIN)/eolwatch-server ./cmd/eolwatch-server
	$(GO) build -trimpath -o $(BIN)/eolwatch-loadgen ./cmd/eolwatch-loadgen
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/eolwatch-agent ./cmd/eolwatch-agent

.PHONY: build-all
build-all: ## cross-build the agent for linux, windows, darwin on amd64 and arm64 into bin/
	@mkdir -p $(BIN)
	@set -e; for os in linux windows darwin; do for arch in amd64 arm64; do \
	  ext=""; [ $$os = windows ] && ext=.exe; \
	  echo "agent $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/eolwatch-agent-$$os-$$arch$$ext ./cmd/eolwatch-agent; \
	done; done

.PHONY: packages
packages: ## build .deb/.rpm (agent, server; amd64+arm64), signed Windows MSI/exe and macOS tarballs into dist/
	./scripts/packages.sh

.PHONY: test
test: ## run every test (tools from `make deps`; CI=true turns a missing tool into a failure)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

.PHONY: bench
bench: ## run the benchmarks and print the figures
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=1x ./... | tee bench.out
	./scripts/bench-agent.sh | tee -a bench.out

.PHONY: bench-agent
bench-agent: ## agent figures: `inventory --json` CPU and peak RSS next to dpkg-query -W (/usr/bin/time -v)
	$(GO) test -run '^$$' -bench . -benchmem ./agent/
	./scripts/bench-agent.sh

.PHONY: bench-hostile
bench-hostile: ## server peak RSS under hostile reports (gzip item bombs; 6 concurrent million-item reports; 6 concurrent valid reports at the limits): scripts/report-bomb.sh
	./scripts/report-bomb.sh

.PHONY: bench-catalog
bench-catalog: ## catalog figures on one core: evaluations/s, comparison cost, load time (docs/catalog.md)
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 ./catalog/

.PHONY: bench-full
bench-full: ## run the server benchmarks at the goal sizes (10,000 hosts x 1,000 items; 100,000 hosts x 20 products), on SQLite then PostgreSQL (EOLWATCH_TEST_ENGINES=sqlite|postgres for one; slow)
	EOLWATCH_BENCH_FULL=1 $(GO) test -run '^$$' -bench . -benchtime=1x -timeout 2h ./server/store/ ./server/ | tee bench-full.out

.PHONY: lint
lint: ## gofmt + go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: deps
deps: ## install the tools some tests need (Debian packages; idempotent) and download modules
	./scripts/deps.sh
	$(GO) mod download

.PHONY: match-review
match-review: build ## read every product an archive's packages claim: make match-review LISTS="Packages.lz4 rpm-qa.txt APKINDEX..." (default: this machine's apt lists)
	./scripts/match-review.sh $(or $(LISTS),$(sort $(wildcard /var/lib/apt/lists/*_Packages*)))

.PHONY: match-testdata
match-testdata: ## regenerate server/match/testdata/debian12-packages.tsv.gz from this machine's bookworm apt lists (main, -updates, -security)
	./scripts/match-testdata.sh server/match/testdata/debian12-packages.tsv.gz

.PHONY: catalog
catalog: ## regenerate the embedded default catalog from $(ENDOFLIFE)
	$(GO) run ./catalog/internal/gencatalog -src $(ENDOFLIFE) -out catalog/data

.PHONY: run
run: build ## build, start the server on 127.0.0.1:8480 with .run/ as data dir, run this machine's agent, print where to look
	./scripts/run.sh

.PHONY: loadgen
loadgen: build ## fire a simulated fleet at the `make run` server (LOADGEN_HOSTS=1000 LOADGEN_ITEMS=1000 LOADGEN_CONCURRENCY=8; adds fake hosts to .run/)
	$(BIN)/eolwatch-loadgen --server http://$${EOLWATCH_RUN_ADDR:-127.0.0.1:8480} --enroll-secret "$$(cat $(RUN_DIR)/enroll-secret)" \
	  --token "$$($(BIN)/eolwatch-server token create --data-dir $(RUN_DIR) --role support --name loadgen)" \
	  --hosts $(or $(LOADGEN_HOSTS),1000) --items $(or $(LOADGEN_ITEMS),1000) --concurrency $(or $(LOADGEN_CONCURRENCY),8)

.PHONY: clean
clean: ## remove build outputs
	rm -rf $(BIN) dist bench.out
