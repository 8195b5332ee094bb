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
expect_error "--resume: $tmp/never holds no run" icnn/tox21 --data_dir="$tmp/tox" --resume --out_dir="$tmp/never"

# A real SIGTERM in the middle of a run: exit 143 with one line, the run's checkpoint kept, and
# --resume finishes the job.
mkdir -p "$tmp/tox_many"
{
  echo "$header"
  for k in $(seq 1 40); do
    chain="$(printf 'C%.0s' $(seq 1 "$k"))"
    for suffix in "" O N OC; do
      label=0; [[ "$suffix" == O* ]] && label=1
      printf '%s,' $label $label $label $label $label $label $label $label $label $label $label $label
      echo "M,$chain$suffix"
    done
  done
} > "$tmp/tox_many/tox21.csv"
run="$tmp/sigterm" log="$tmp/sigterm.log"
flags=(--data_dir="$tmp/tox_many" --model=icnn --runs=2 --epochs=300 --bs=32 --threads=1 --out_dir="$run")
"$(bin_path icnn/tox21)" "${flags[@]}" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1200); do [[ -e "$run/config.json" ]] && break; sleep 0.05; done
sleep 1
kill -TERM "$pid"; wait "$pid"; rc=$?
if [[ $rc -eq 143 ]] && grep -Eq "^interrupted \(SIGTERM\) (at step [0-9]+ \(epoch [0-9]+, batch [0-9]+\)|after epoch [0-9]+ \(step [0-9]+\)); --resume continues" "$log" \
   && ls "$run"/checkpoint_run*.pt >/dev/null 2>&1 && [[ ! -e "$run/summary.json" ]]; then
  echo "ok: SIGTERM -> exit 143, $(grep '^interrupted' "$log")"
else
  echo "FAIL: SIGTERM gave exit $rc:"; tail -n 3 "$log"; failures=$((failures + 1))
fi
out="$("$(bin_path icnn/tox21)" "${flags[@]}" --resume 2>&1)"; rc=$?
if [[ $rc -eq 0 && -e "$run/summary.json" ]] && grep -q "resumed from .*checkpoint_run" <<<"$out" \
   && [[ "$(grep -c '^[01],' "$run/metrics.csv")" -eq 2 ]] && ! ls "$run"/checkpoint_run*.pt >/dev/null 2>&1; then
  echo "ok: --resume finished the interrupted job"
else
  echo "FAIL: --resume gave exit $rc:"; tail -n 3 <<<"$out"; failures=$((failures + 1))
fi
finish
