#!/usr/bin/env bash
# Bad input to implicit_dl's binaries: one clear error line and exit 1 (reliability issue, items 9-11).
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/common/testing/cli_expect.sh"
tmp="${TEST_TMPDIR:-/tmp}"
expect_error "--eps: 'nan' is not a finite number" implicit_dl/robustness --run_dir="$tmp/none" --eps=nan
expect_error "--limit must be >= 1 (test images), got 0" implicit_dl/robustness --run_dir="$tmp/none" --limit=0
expect_error "--limit must be >= 1 (test images), got -3" implicit_dl/robustness --run_dir="$tmp/none" --limit=-3
expect_error "--log_min must be below --log_max (both finite), got 5 and 1" implicit_dl/extrapolation --log_min=5 --log_max=1 --out_dir="$tmp/o1"
expect_error "--resume: $tmp/never holds no run" implicit_dl/train --resume --out_dir="$tmp/never" --epochs=1

# A real SIGTERM mid-epoch: exit 143 with one line, and --resume finishes the run.
if [[ -d /usr/share/datasets/fashion-mnist ]]; then
  run="$tmp/sigterm" log="$tmp/sigterm.log"
  "$(bin_path implicit_dl/train)" --epochs=1 --out_dir="$run" --threads=1 --eval_every=0 >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1200); do grep -q "run directory" "$log" && break; sleep 0.05; done
  sleep 0.5
  kill -TERM "$pid"; wait "$pid"; rc=$?
  if [[ $rc -eq 143 ]] && grep -q "^interrupted (SIGTERM) at step [0-9]* (epoch 1, batch [0-9]*); --resume continues" "$log" \
     && [[ ! -e "$run/summary.json" ]]; then
    echo "ok: SIGTERM -> exit 143, $(grep '^interrupted' "$log")"
  else
    echo "FAIL: SIGTERM gave exit $rc:"; tail -n 3 "$log"; failures=$((failures + 1))
  fi
  out="$("$(bin_path implicit_dl/train)" --epochs=1 --out_dir="$run" --threads=1 --eval_every=0 --resume 2>&1)"; rc=$?
  if [[ $rc -eq 0 && -e "$run/summary.json" ]] && grep -q "resumed from .* after epoch 0 and [0-9]* batches" <<<"$out"; then
    echo "ok: --resume finished the interrupted run"
  else
    echo "FAIL: --resume gave exit $rc:"; tail -n 3 <<<"$out"; failures=$((failures + 1))
  fi
  out="$("$(bin_path implicit_dl/train)" --epochs=1 --out_dir="$run" --threads=1 --eval_every=0 --resume 2>&1)"; rc=$?
  [[ $rc -eq 0 ]] && grep -q "the run is finished" <<<"$out" && echo "ok: --resume of a finished run" \
    || { echo "FAIL: finished --resume gave exit $rc"; failures=$((failures + 1)); }
else
  echo "skipped the SIGTERM case: /usr/share/datasets/fashion-mnist is not installed"
fi
finish
