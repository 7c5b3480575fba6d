# riftgate — one entry point for people and CI.
#   sudo make demo   set up this machine, build, and run a hub and two agents in network namespaces that ping
#   sudo make test   set up this machine, build, and run every test (unit, integration, end-to-end)
#   sudo make bench  build release binaries and run the benchmarks (results in bench-results/; see docs/performance.md)
#   make fuzz        build the libFuzzer targets and run each for FUZZ_SECONDS (results in fuzz-results/; Tests/fuzz/README.md)
#   make sanitize    swift test under AddressSanitizer and under ThreadSanitizer (make test runs both)
#   sudo make soak   a bounded soak (SOAK_MINUTES, default 30): churn on the hub, a flapping 4-agent mesh, leak check (Tests/soak)
#   make deb         riftgate_<version>_<arch>.deb and riftgate-hub_<version>_<arch>.deb in dist/ (deploy/debian/)
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT_BUILD_FLAGS ?=
BIN_DIR := $(shell swift build $(SWIFT_BUILD_FLAGS) --show-bin-path 2>/dev/null || echo .build/debug)
PYTEST := .venv/bin/python -m pytest

.PHONY: deb deb-binaries deps build test unit-test integration-test e2e-test demo bench bench-harness soak fuzz fuzz-build sanitize asan-test tsan-test clean

deps:
	@bash deploy/install-deps.sh

build: deps
	@echo "==> building riftgate and riftgate-hub (first build takes a few minutes)"
	swift build $(SWIFT_BUILD_FLAGS)

unit-test: build
	@echo "==> Swift tests"
	swift test $(SWIFT_BUILD_FLAGS)

# The package test (Tests/e2e/test_packages.py) packs a debug build with the Swift standard library linked in: the
# test binaries in BIN_DIR link the Swift runtime dynamically, which a Debian machine does not have, and a static
# debug build costs far less than a release one (about 40 s here against 2.5 min).
integration-test: build
	@$(MAKE) --no-print-directory deb-binaries DEB_CONFIG=debug
	@echo "==> protocol vectors checked by an independent implementation (PyNaCl)"
	.venv/bin/python Protocol/vectors/check_vectors.py
	@echo "==> integration and end-to-end tests (real processes; the namespace tests need root)"
	RIFTGATE_BIN_DIR=$(BIN_DIR) RIFTGATE_DEB_BIN_DIR=.build-deb-debug/debug $(PYTEST) -q -rs --durations=25 Tests/integration Tests/e2e

test: unit-test integration-test asan-test tsan-test

# Sanitizers: the whole Swift test suite again, once under AddressSanitizer and once under ThreadSanitizer, each in its own
# scratch path (a sanitized build cannot share objects with the plain one). make test (so CI) runs both; each adds about
# 3 minutes on 2 cores (mostly its build). Every lock is RiftSupport's Locked, which TSan can see (Tests/sanitizers/README.md).
ASAN_SCRATCH ?= .build-asan
TSAN_SCRATCH ?= .build-tsan

sanitize: asan-test tsan-test

asan-test: deps
	@echo "==> Swift tests under AddressSanitizer"
	ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 swift test $(SWIFT_BUILD_FLAGS) --sanitize=address --scratch-path $(ASAN_SCRATCH)

tsan-test: deps
	@echo "==> Swift tests under ThreadSanitizer"
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/Tests/sanitizers/tsan.supp" \
	  swift test $(SWIFT_BUILD_FLAGS) --sanitize=thread --scratch-path $(TSAN_SCRATCH)

# Coverage-guided fuzzing (not part of make test): each target is a libFuzzer entry point over one parser, built in
# release with the fuzzer and AddressSanitizer, and run for FUZZ_SECONDS from the corpus in fuzz-results/corpus/.
FUZZ_SCRATCH ?= .build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
FUZZ_RESULTS ?= fuzz-results
FUZZ_TARGETS ?= FuzzJSON FuzzClientMessage FuzzHubMessage FuzzSealed FuzzSTUN FuzzWireGuard FuzzConfiguration FuzzDNS \
	FuzzClusterMessage FuzzFrameParser
FUZZ_BUILD_FLAGS := -c release --scratch-path $(FUZZ_SCRATCH) -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing \
	-Xcxx -fsanitize=fuzzer-no-link,address

fuzz-build:
	@echo "==> building the fuzz targets (RIFTGATE_FUZZ=1, -sanitize=fuzzer,address)"
	for target in $(FUZZ_TARGETS); do RIFTGATE_FUZZ=1 swift build $(FUZZ_BUILD_FLAGS) --product $$target || exit 1; done

fuzz: fuzz-build
	@echo "==> fuzzing each target for $(FUZZ_SECONDS) s"
	FUZZ_RUNS=$(FUZZ_RUNS) Tests/fuzz/run.sh $(FUZZ_SCRATCH)/release $(FUZZ_RESULTS) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Benchmarks: figures are written to bench-results/ (JSON + Markdown) and never asserted. Two release builds, each in
# its own scratch path: plain binaries, and the test bundle with testable imports for the data-path harness.
BENCH_SCRATCH ?= .build-bench-release
BENCH_TEST_SCRATCH ?= .build-bench
BENCH_STATIC_SCRATCH ?= .build-bench-static
BENCH_ARGS ?=

bench: deps
	@echo "==> release build of riftgate and riftgate-hub for the benchmarks"
	swift build -c release --scratch-path $(BENCH_SCRATCH)
	@$(MAKE) --no-print-directory bench-harness
	@echo "==> release agent with the Swift runtime linked in, as the Debian package builds it (memory section)"
	swift build -c release --static-swift-stdlib --product riftgate --scratch-path $(BENCH_STATIC_SCRATCH)
	ulimit -n 65536 2>/dev/null || true; \
	.venv/bin/python Tests/bench/bench.py --bin-dir $(BENCH_SCRATCH)/release --test-bin-dir $(BENCH_TEST_SCRATCH)/release \
	  --static-bin-dir $(BENCH_STATIC_SCRATCH)/release $(BENCH_ARGS)

# The release test bundle with testable imports: the data-path harness that make bench runs under callgrind. CI builds
# it too (.ci/run): an optimized build of every module and test is the only one that meets some optimizer crashes
# (Swift 6.3.1 crashed on one test's force unwrap here, and make bench could not build for a day without anyone seeing).
bench-harness:
	@echo "==> release test bundle with testable imports (data-path harness run under callgrind)"
	swift build -c release --build-tests -Xswiftc -enable-testing --scratch-path $(BENCH_TEST_SCRATCH)

# Debian packages: a static-stdlib build of the two programs (no Swift runtime to depend on), packed with dpkg-deb
# and checked with lintian. DEB_CONFIG=debug packs a debug build instead (quicker to build; make integration-test
# builds one for the package test); DEB_VERSION overrides the version derived from git.
DEB_CONFIG ?= release
DEB_SCRATCH ?= $(if $(filter release,$(DEB_CONFIG)),.build-release,.build-deb-$(DEB_CONFIG))
DEB_VERSION ?=
DEB_OUTPUT ?= dist

deb-binaries: deps
	@echo "==> $(DEB_CONFIG) build with the Swift standard library linked in ($(DEB_SCRATCH))"
	swift build -c $(DEB_CONFIG) --static-swift-stdlib --scratch-path $(DEB_SCRATCH)

deb: deb-binaries
	@echo "==> Debian packages"
	deploy/debian/build-packages.sh --bin-dir $(DEB_SCRATCH)/$(DEB_CONFIG) --output $(DEB_OUTPUT) \
	  $(if $(DEB_VERSION),--version $(DEB_VERSION))

demo: build
	RIFTGATE_BIN_DIR=$(BIN_DIR) .venv/bin/python Tests/lab/demo.py

# Not part of make test: it takes SOAK_MINUTES (default 30). Figures in .build-soak/<time>/soak.json (Tests/soak/README.md).
SOAK_MINUTES ?= 30
SOAK_ARGS ?=
soak: build
	RIFTGATE_BIN_DIR=$(BIN_DIR) .venv/bin/python Tests/soak/soak.py --minutes $(SOAK_MINUTES) $(SOAK_ARGS)

clean:
	rm -rf .build .build-asan .build-tsan .build-fuzz .build-deb-* dist .venv
