SHELL := /bin/bash
# Switchboard — build, run, test, bench.
#
#   make run     build and start Switchboard with configs/switchboard.yaml
#   make test    every test, unit and end-to-end (installs missing tools first)
#   make bench   benchmarks: per-frame/per-packet Go benchmarks and the load runs

GO        ?= go
BIN       := bin/switchboard
CONFIG    ?= configs/switchboard.yaml
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# Debian packages the build and the tests need.
DEBS      := libopus-dev libopusfile-dev libspeexdsp-dev libspandsp-dev pkg-config gcc sip-tester baresip sox
TEST_TIMEOUT ?= 20m

.PHONY: all build run test unit e2e bench deps check vet clean

all: build

deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all present"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "deps: installing$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "deps: missing Debian packages:$$missing (run 'make deps' as root)"; exit 1; \
	fi

build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/switchboard

check: build
	./$(BIN) -config $(CONFIG) -check

run: build
	@echo "Starting Switchboard with $(CONFIG)."
	@echo "First call: register two softphones on 127.0.0.1:5060 (UDP or TCP) as users 1000 and 1001"
	@echo "with the passwords printed below (or set SB_1000_PASSWORD / SB_1001_PASSWORD), then dial 1001 from 1000."
	@echo "Numbers 9<digits> go out to the demo trunk at 127.0.0.2:5080 (e.g. 'sipp -sn uas -i 127.0.0.2 -p 5080')."
	./$(BIN) -config $(CONFIG)

vet:
	$(GO) vet ./...

# Unit tests (every package but the end-to-end suite), then end-to-end
# tests that start the real binary against sipp and baresip.
test: build
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v /test$$)
	SWITCHBOARD_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./test/

unit: build
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v /test$$)

e2e: build
	SWITCHBOARD_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) -v ./test/

# Benchmarks print the figures the README quotes.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=2000x ./codecs/... ./media/... ./rtcpstats/... ./b2bua/... 2>&1 | tee bench-unit.txt
	SWITCHBOARD_BIN=$(CURDIR)/$(BIN) SB_BENCH=1 $(GO) test -run '^$$' -bench . -benchtime=1x -timeout 60m -v ./test/ 2>&1 | tee bench-e2e.txt

clean:
	rm -rf bin var bench-unit.txt bench-e2e.txt
