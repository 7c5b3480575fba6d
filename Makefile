# riftgate — one entry point for people and CI.
#   sudo make demo   set up this machine, build, and run a hub and two agents in network namespaces that ping
#   sudo make test   set up this machine, build, and run every test (unit, integration, end-to-end)
#   sudo make bench  build release binaries and run the benchmarks (results in bench-results/; see docs/performance.md)
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT_BUILD_FLAGS ?=
BIN_DIR := $(shell swift build $(SWIFT_BUILD_FLAGS) --show-bin-path 2>/dev/null || echo .build/debug)
PYTEST := .venv/bin/python -m pytest

.PHONY: deps build test unit-test integration-test e2e-test demo bench clean

deps:
	@bash deploy/install-deps.sh

build: deps
	@echo "==> building riftgate and riftgate-hub (first build takes a few minutes)"
	swift build $(SWIFT_BUILD_FLAGS)

unit-test: build
	@echo "==> Swift tests"
	swift test $(SWIFT_BUILD_FLAGS)

integration-test: build
	@echo "==> protocol vectors checked by an independent implementation (PyNaCl)"
	.venv/bin/python Protocol/vectors/check_vectors.py
	@echo "==> integration and end-to-end tests (real processes; the namespace tests need root)"
	RIFTGATE_BIN_DIR=$(BIN_DIR) $(PYTEST) -q -rs Tests/integration Tests/e2e

test: unit-test integration-test

# Benchmarks: figures are written to bench-results/ (JSON + Markdown) and never asserted. Two release builds, each in
# its own scratch path: plain binaries, and the test bundle with testable imports for the data-path harness.
BENCH_SCRATCH ?= .build-bench-release
BENCH_TEST_SCRATCH ?= .build-bench
BENCH_ARGS ?=

bench: deps
	@echo "==> release build of riftgate and riftgate-hub for the benchmarks"
	swift build -c release --scratch-path $(BENCH_SCRATCH)
	@echo "==> release test bundle with testable imports (data-path harness run under callgrind)"
	swift build -c release --build-tests -Xswiftc -enable-testing --scratch-path $(BENCH_TEST_SCRATCH)
	ulimit -n 65536 2>/dev/null || true; \
	.venv/bin/python Tests/bench/bench.py --bin-dir $(BENCH_SCRATCH)/release --test-bin-dir $(BENCH_TEST_SCRATCH)/release $(BENCH_ARGS)

demo: build
	RIFTGATE_BIN_DIR=$(BIN_DIR) .venv/bin/python Tests/lab/demo.py

clean:
	rm -rf .build .venv
