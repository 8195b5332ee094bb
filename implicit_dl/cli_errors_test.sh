#!/usr/bin/env bash
# Bad input to implicit_dl's binaries: one clear error line and exit 1 (reliability issue, items 9-11).
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/common/testing/cli_expect.sh"
tmp="${TEST_TMPDIR:-/tmp}"
expect_error "--eps must be non-negative numbers, got 'nan'" implicit_dl/robustness --run_dir="$tmp/none" --eps=nan
expect_error "--limit must be >= 1 (test images), got 0" implicit_dl/robustness --run_dir="$tmp/none" --limit=0
expect_error "--limit must be >= 1 (test images), got -3" implicit_dl/robustness --run_dir="$tmp/none" --limit=-3
expect_error "--log_min must be below --log_max (both finite), got 5 and 1" implicit_dl/extrapolation --log_min=5 --log_max=1 --out_dir="$tmp/o1"
expect_error "--resume: $tmp/never holds no run" implicit_dl/train --resume --out_dir="$tmp/never" --epochs=1
finish
