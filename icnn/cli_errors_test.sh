#!/usr/bin/env bash
# Bad input to icnn's binaries: one clear error line and exit 1 (reliability issue, items 7, 8, 10, 11).
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/common/testing/cli_expect.sh"
tmp="${TEST_TMPDIR:-/tmp}"
header="NR-AR,NR-AR-LBD,NR-AhR,NR-Aromatase,NR-ER,NR-ER-LBD,NR-PPAR-gamma,SR-ARE,SR-ATAD5,SR-HSE,SR-MMP,SR-p53,mol_id,smiles"
mkdir -p "$tmp/tox" "$tmp/tox_unlabelled"
printf '%s\n0,1,,0,0,0,0,1,0,0,0,0,T1,CCO\n1,0,0,0,0,0,0,0,0,0,0,1,T2,CC\n' "$header" > "$tmp/tox/tox21.csv"
printf '%s\n,,,,,,,,,,,,T1,CCO\n,,,,,,,,,,,,T2,CC\n' "$header" > "$tmp/tox_unlabelled/tox21.csv"
expect_error "--bits must be in [1, 1048576], got 0" icnn/tox21 --data_dir="$tmp/tox" --bits=0 --out_dir="$tmp/o1"
expect_error "--bits must be in [1, 1048576], got 100000000" icnn/tox21 --data_dir="$tmp/tox" --bits=100000000 --out_dir="$tmp/o2"
expect_error "every label is empty" icnn/tox21 --data_dir="$tmp/tox_unlabelled" --out_dir="$tmp/o3"
expect_error "--corr must be in [0, 1), got 2" icnn/init_learnability --corr=2 --runs=1 --epochs=1 --out_dir="$tmp/o4"
expect_error "--corr must be in [0, 1), got nan" icnn/init_learnability --corr=nan --runs=1 --epochs=1 --out_dir="$tmp/o5"
expect_error "--models must name at least one of" icnn/mlp_search --models= --grid=small --out_dir="$tmp/o6"
finish
