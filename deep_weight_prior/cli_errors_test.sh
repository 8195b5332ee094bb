#!/usr/bin/env bash
# Bad input to deep_weight_prior's binaries: one clear error line and exit 1 (reliability issue,
# items 9-11).
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/common/testing/cli_expect.sh"
tmp="${TEST_TMPDIR:-/tmp}"
expect_error "--classes: class 5 is listed twice" deep_weight_prior/train_bnn --classes=5,5 --out_dir="$tmp/o1"
expect_error "--num_examples must be >= 0 (0: all), got -1" deep_weight_prior/train_bnn --num_examples=-1 --out_dir="$tmp/o2"
expect_error "--logvarinit must be a finite log variance, got nan" deep_weight_prior/train_bnn --logvarinit=nan --out_dir="$tmp/o3"
expect_error "--train_fraction must be in (0, 1), got 0" deep_weight_prior/collect_kernels --models="$tmp/m" --train_fraction=0 --out_dir="$tmp/o4"
expect_error "--train_fraction must be in (0, 1), got 1.5" deep_weight_prior/collect_kernels --models="$tmp/m" --train_fraction=1.5 --out_dir="$tmp/o5"
expect_error "--source_nets must be >= 1, or 0 with --reference_dir" deep_weight_prior/pipeline --quick --source_nets=0 --out_dir="$tmp/o6"
expect_error "--sizes must be >= 1 each, got 0" deep_weight_prior/pipeline --quick --sizes=0 --out_dir="$tmp/o7"
expect_error "--vae_epochs must be >= 1, got 0" deep_weight_prior/pipeline --quick --vae_epochs=0 --out_dir="$tmp/o8"
expect_error "--vae_min_steps must be >= 0, got -1" deep_weight_prior/pipeline --quick --vae_min_steps=-1 --out_dir="$tmp/o9"
expect_error "$tmp/none/vae7x7: no vae.json or params.yaml" deep_weight_prior/pipeline --quick --reference_dir="$tmp/none" --out_dir="$tmp/o10"
expect_error "--data_split_seed must be below 2^32 (a numpy seed), got 4294967296" deep_weight_prior/train_bnn --num_examples=50 --data_split_seed=4294967296 --out_dir="$tmp/o11"
finish
