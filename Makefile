# bpfsig — make targets. `make demo` and `make test` are the two commands a newcomer runs.
GO       ?= go
BIN      := bin/bpfsig
FUZZTIME ?= 20s

.PHONY: all build test demo bench perf fuzz lint cross oracle-deps oracle-bpf oracle-test clean

all: build

build:
	$(GO) build -buildvcs=true -o $(BIN) ./cmd/bpfsig

# The test suite (and the header codec again with its portable decoder only, -tags purego). As root on a kernel with bpf(2) the kernel-path tests run for real; with
# BPFSIG_ORACLE=1 (as CI sets) the VM oracle tests run too. Anything unavailable is skipped
# with the reason (see `go test -v`).
test:
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags purego ./internal/lskel

# The main job on the bundled data: migrate the old skeletons (both legacy generations) to the
# raw scheme in a temporary directory, verify the results, and show the compare matrix.
demo: build
	@bash scripts/demo.sh

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# Whole-process cost per file: `bpfsig verify` and `bpfsig migrate` of N (1000) distinct signed
# skeletons against a loop of `openssl cms -verify` over the same signatures (medians of RUNS=5).
perf:
	N=$(or $(N),1000) RUNS=$(or $(RUNS),5) bash scripts/perf.sh

# Each fuzz target for FUZZTIME (go test runs one fuzz target per invocation). Minimising a
# new ~20 KB header input takes long; -fuzzminimizetime 1x keeps the fuzzer fuzzing.
FUZZ = $(GO) test -run='^$$' -fuzzminimizetime=1x -fuzztime=$(FUZZTIME)
fuzz:
	$(FUZZ) -fuzz='^FuzzEndToEnd$$' .
	$(FUZZ) -fuzz='^FuzzParse$$' ./internal/lskel
	$(FUZZ) -fuzz='^FuzzDecodeRun$$' ./internal/lskel
	$(FUZZ) -fuzz='^FuzzParse$$' ./internal/cms
	$(FUZZ) -fuzz='^FuzzNormalLen$$' ./internal/cms
	$(FUZZ) -fuzz='^FuzzDecode$$' ./internal/loader
	$(FUZZ) -fuzz='^FuzzParse$$' ./mapvalue
	$(FUZZ) -fuzz='^FuzzVerify$$' ./mapvalue

# The library for other systems (livekernel builds there and answers ErrNotLinux; not the command),
# with and without the header codec's amd64 assembly (the purego tag leaves it out).
CROSS_PKGS = . ./compat ./legacy ./chain ./raw ./hornet ./policy ./compare ./migrate ./twophase \
	./mapvalue ./fsverity ./keygen ./pkcs11 ./livekernel ./oracle
cross:
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(CROSS_PKGS)
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build $(CROSS_PKGS)
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) vet ./internal/lskel
	GOOS=darwin GOARCH=amd64 CGO_ENABLED=0 $(GO) build $(CROSS_PKGS)
	CGO_ENABLED=0 $(GO) build -tags purego $(CROSS_PKGS)

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The VM oracle: qemu, clang and Debian's 6.12 kernel image (cached), then the oracle tests.
oracle-deps:
	bash scripts/oracle-deps.sh

oracle-bpf:
	$(MAKE) -C internal/oracle/bpf

oracle-test:
	BPFSIG_ORACLE=1 $(GO) test -count=1 -v -run 'Oracle|Selftest|Differential' ./internal/oracle/...

clean:
	rm -rf bin
