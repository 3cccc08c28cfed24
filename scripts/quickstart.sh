#!/usr/bin/env bash
# README command 1: install what building and running need (not the test
# stack: scripts/test.sh installs that), build, and analyze the real
# capture in samples/lab-6.18 (made by tests/lab/capture.sh on a 6.18
# kernel).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
exec build/ctplan analyze samples/lab-6.18
