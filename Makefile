# fhenn: thin front end to CMake. `make demo` and `make test` install what is missing, build and run.
BUILD_TYPE_DEMO ?= Release
JOBS ?= $(shell nproc)
CMAKE_GENERATOR ?= Ninja
TORCH ?= ON

RELEASE_DIR := build/release
TEST_DIR := build/test
ASAN_DIR := build/asan

.PHONY: demo test test-long bench build deps format tidy clean asan

deps:
	@FHENN_WITH_TORCH=$(TORCH) bash scripts/install-deps

$(RELEASE_DIR)/build.ninja: | deps
	cmake -S . -B $(RELEASE_DIR) -G $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE_DEMO) \
	  -DFHENN_ENABLE_ASSERTS=OFF -DFHENN_BUILD_TESTS=OFF -DFHENN_WITH_TORCH=$(TORCH)

build: deps $(RELEASE_DIR)/build.ninja
	cmake --build $(RELEASE_DIR) -j $(JOBS)

demo: build
	$(RELEASE_DIR)/tools/fhenn/fhenn demo

# Every test, with assertions on, optimised so that the encryption tests run in reasonable time.
test: deps
	cmake -S . -B $(TEST_DIR) -G $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DFHENN_ENABLE_ASSERTS=ON -DFHENN_BUILD_BENCH=OFF -DFHENN_WITH_TORCH=$(TORCH)
	cmake --build $(TEST_DIR) -j $(JOBS)
	cd $(TEST_DIR) && ctest --output-on-failure -j $(JOBS)

# The long sweeps (every input of the 7- and 8-bit bootstraps, ...), not part of `make test`.
test-long: test
	cd $(TEST_DIR) && FHENN_LONG_TESTS=1 ctest --output-on-failure -j $(JOBS)

# The torch-free layers under AddressSanitizer and UndefinedBehaviorSanitizer (part of CI).
asan: deps
	cmake -S . -B $(ASAN_DIR) -G $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFHENN_WITH_TORCH=OFF \
	  -DFHENN_SANITIZE=ON -DFHENN_ENABLE_ASSERTS=ON -DFHENN_BUILD_BENCH=OFF
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ctest --output-on-failure -j $(JOBS)

# The loaders' libFuzzer targets (clang, ASan + UBSan; scripts/fuzz): FUZZ_SECONDS each (default 60), then the
# executions per target; fails on any finding. fuzz-smoke: 5 seconds each (part of CI).
.PHONY: fuzz fuzz-smoke
FUZZ_SECONDS ?= 60
fuzz:
	@FHENN_WITH_TORCH=OFF FHENN_WITH_FUZZ=ON bash scripts/install-deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) bash scripts/fuzz

fuzz-smoke:
	@FHENN_WITH_TORCH=OFF FHENN_WITH_FUZZ=ON bash scripts/install-deps
	FUZZ_SECONDS=5 FUZZ_JOBS=2 JOBS=$(JOBS) bash scripts/fuzz

bench: build
	@for b in $(RELEASE_DIR)/bench/fhenn_bench_*; do echo "== $$b"; $$b; done
	$(RELEASE_DIR)/tools/fhenn/fhenn bench tfhe

format:
	find src tests bench tools -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

tidy:
	run-clang-tidy -p $(TEST_DIR) -quiet 'src/.*'

clean:
	rm -rf build
