#!/usr/bin/env bash
# README command 2: install what is missing, then build and run the whole
# test suite twice: a normal build, and one with AddressSanitizer and
# UndefinedBehaviorSanitizer.  Both build with -Wall -Wextra -Werror.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build -DCTPLAN_WERROR=ON
(cd build && ctest --output-on-failure -j"$(nproc)")

scripts/setup.sh build-asan -DCTPLAN_WERROR=ON -DCTPLAN_SANITIZE=ON \
	-DCMAKE_BUILD_TYPE=Debug
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$(nproc)")
echo "test: all suites passed (normal and ASan+UBSan builds)"
