#!/usr/bin/env bash
# Bad input to excess_capacity's train: one clear error line and exit 1 (reliability issue, item 10).
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/common/testing/cli_expect.sh"
tmp="${TEST_TMPDIR:-/tmp}"
expect_error "--momentum must be in [0, 1), got 5" excess_capacity/train --momentum=5 --out_dir="$tmp/o1"
expect_error "--bn applies to --arch=no_stride_preactresnet18 only" excess_capacity/train --bn --arch=simple_convnet6 --out_dir="$tmp/o2"
finish
