#!/usr/bin/env bash
# README command 2: install what is missing (the test stack too:
# setup.sh --test), then build and run the whole test suite twice: a
# normal build, and one with AddressSanitizer and
# UndefinedBehaviorSanitizer.  Both build with -Wall -Wextra -Werror.
# Then the fuzz targets, briefly, in a third build with clang.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test build -DCTPLAN_WERROR=ON
(cd build && ctest --output-on-failure -j"$(nproc)")

scripts/setup.sh --test build-asan -DCTPLAN_WERROR=ON -DCTPLAN_SANITIZE=ON \
	-DCMAKE_BUILD_TYPE=Debug
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$(nproc)")

# the libFuzzer targets (tests/fuzz/README): clang, ASan+UBSan, each for
# 10 s from seeds made from samples/; only they are built and run here
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCTPLAN_FUZZ=ON \
	-DCTPLAN_WERROR=OFF >/dev/null
cmake --build build-fuzz --target fuzz -j"$(nproc)"
(cd build-fuzz && ctest -L fuzz --output-on-failure -j"$(nproc)")
echo "test: all suites passed (normal, ASan+UBSan and fuzz builds)"
