# bpfsig — make targets. `make demo` and `make test` are the two commands a newcomer runs.
GO       ?= go
BIN      := bin/bpfsig
FUZZTIME ?= 20s
DEMO_DIR ?= $(shell mktemp -d -t bpfsig-demo-XXXXXX 2>/dev/null || echo /tmp/bpfsig-demo)
KEY      := testdata/keys/test-rsa2048.key.pem
CERT     := testdata/keys/test-rsa2048.crt.pem

.PHONY: all build test demo bench fuzz lint oracle-deps oracle-bpf oracle-test clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/bpfsig

# The test suite. As root on a kernel with bpf(2) the kernel-path tests run for real; with
# BPFSIG_ORACLE=1 (as CI sets) the VM oracle tests run too. Anything unavailable is skipped
# with the reason (see `go test -v`).
test:
	$(GO) test -count=1 ./...

# The main job on the bundled data: migrate the old skeletons (both legacy generations) to the
# raw scheme in a temporary directory, verify the results, and show the compare matrix.
demo: build
	@chmod 600 $(KEY)
	@mkdir -p $(DEMO_DIR)/old-skel
	@cp testdata/minimal/legacy-v1.skel.h testdata/minimal/legacy-v2.skel.h $(DEMO_DIR)/old-skel/
	@echo "== bpfsig migrate $(DEMO_DIR)/old-skel --out $(DEMO_DIR)/new-skel"
	$(BIN) migrate $(DEMO_DIR)/old-skel --out $(DEMO_DIR)/new-skel --key $(KEY) --cert $(CERT) --trust $(CERT) --report $(DEMO_DIR)/report.json
	@echo; echo "== bpfsig verify (the migrated skeletons)"
	$(BIN) verify --cert $(CERT) $(DEMO_DIR)/new-skel/*.skel.h
	@echo; echo "== byte identity with upstream's raw.skel.h"
	cmp $(DEMO_DIR)/new-skel/legacy-v1.skel.h testdata/minimal/raw.skel.h && cmp $(DEMO_DIR)/new-skel/legacy-v2.skel.h testdata/minimal/raw.skel.h && echo "both identical to testdata/minimal/raw.skel.h"
	@echo; echo "== bpfsig compare (an old skeleton, as it is, on each kernel)"
	$(BIN) compare --cert $(CERT) $(DEMO_DIR)/old-skel/legacy-v2.skel.h
	@echo; echo "== bpfsig compare --tamper all"
	$(BIN) compare --tamper all --key $(KEY) --cert $(CERT) $(DEMO_DIR)/old-skel/legacy-v2.skel.h
	@echo; echo "== a second run changes nothing"
	$(BIN) migrate $(DEMO_DIR)/old-skel --out $(DEMO_DIR)/new-skel --key $(KEY) --cert $(CERT) --trust $(CERT)
	@rm -rf $(DEMO_DIR)

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# Each fuzz target for FUZZTIME (go test runs one fuzz target per invocation).
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./internal/lskel
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./internal/cms
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./internal/loader

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
