#!/usr/bin/env bash
# Data-parallel excess_capacity/train under the real launchers, each run against the one-process
# run of the same flags (same global batches; float32 sums in another order: 1e-5):
#   - torchrun (Debian's python3-torch), static rendezvous (the agent hosts the store) and
#     --standalone (rank 0 hosts it), 2 processes; weights compared with Python's torch.load;
#   - srun -n 2 on a one-node Slurm cluster (common/sweep/slurm_cluster.sh).
# A launcher that is not installed is skipped with the reason printed.
set -u
root="$TEST_SRCDIR/$TEST_WORKSPACE"
bin="$root/excess_capacity/train"
tmp="${TEST_TMPDIR:-/tmp}"
args=(--arch=simple_convnet6 --n_channels=8 --epochs=1 --limit_to=501 --bs=50 --optimizer=adam
      --lr=0.003 --lip 2 1 1 1 --dist 20 20 20 20 --threads=1)
passed=0
failed=0

summary_value() {  # run_dir key
  sed -n "s/.*\"$2\": \([-0-9.e+]*\).*/\1/p" "$1/summary.json" | head -1
}

# The run in $1 ended with the one-process run's losses (relative 1e-5).
check_same() {  # name run_dir log
  local name=$1 dir=$2 log=$3 key a b
  if [[ ! -f $dir/summary.json ]]; then
    echo "FAILED $name: no summary.json; its output:"; tail -20 "$log"; failed=$((failed + 1)); return
  fi
  for key in train_loss test_loss; do
    a=$(summary_value "$tmp/one" "$key"); b=$(summary_value "$dir" "$key")
    if ! awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; m = a < 0 ? -a : a;
                                          exit !(a != "" && b != "" && d <= 1e-5 * m) }'; then
      echo "FAILED $name: $key $b, one process $a"; failed=$((failed + 1)); return
    fi
  done
  # Rank 0 alone wrote the run: a header and one row per epoch.
  if [[ $(wc -l <"$dir/metrics.csv") != 2 ]]; then
    echo "FAILED $name: metrics.csv has $(wc -l <"$dir/metrics.csv") lines, not 2"
    failed=$((failed + 1)); return
  fi
  echo "PASSED $name: train_loss $(summary_value "$dir" train_loss) (one process" \
       "$(summary_value "$tmp/one" train_loss))"
  passed=$((passed + 1))
}

if ! "$bin" "${args[@]}" --out_dir="$tmp/one" >"$tmp/one.log" 2>&1; then
  echo "FAILED: the one-process run"; cat "$tmp/one.log"; exit 1
fi

python=/usr/bin/python3
if [[ -x $python ]] && "$python" -c 'import torch.distributed.run' 2>/dev/null; then
  port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # --redirects 1 --tee 2: Debian 12's torchrun (torch 1.13 on Python 3.11) fails on its
  # default "0" (an IntFlag change in Python 3.11); stdout goes to the log dir, stderr shows.
  for mode in static standalone; do
    if [[ $mode == static ]]; then
      launch=(--master_addr=127.0.0.1 --master_port="$port")
    else
      launch=(--standalone)
    fi
    OMP_NUM_THREADS=1 timeout 120 "$python" -m torch.distributed.run --redirects 1 --tee 2 \
      --log_dir="$tmp/torchrun_$mode" "${launch[@]}" --nproc_per_node=2 --no_python \
      "$bin" "${args[@]}" --out_dir="$tmp/torchrun_$mode" >"$tmp/torchrun_$mode.log" 2>&1
    check_same "torchrun ($mode rendezvous)" "$tmp/torchrun_$mode" "$tmp/torchrun_$mode.log"
  done
  # Python reads the weights rank 0 wrote and finds the one-process run's.
  if "$python" - "$tmp/one/weights.pt" "$tmp/torchrun_static/weights.pt" <<'EOF'
import sys, torch
a, b = torch.load(sys.argv[1]), torch.load(sys.argv[2])
assert a.keys() == b.keys(), (a.keys(), b.keys())
worst = max((a[k] - b[k]).abs().max().item() for k in a)
print(f"largest weight difference {worst:.3g}")
sys.exit(0 if worst <= 1e-5 else 1)
EOF
  then
    echo "PASSED torchrun weights (torch.load) equal the one-process run's"; passed=$((passed + 1))
  else
    echo "FAILED torchrun weights differ from the one-process run's"; failed=$((failed + 1))
  fi
else
  echo "SKIPPED torchrun: /usr/bin/python3 with torch.distributed is not installed (Debian: python3-torch)"
fi

cluster=$(mktemp -d /tmp/slurm.XXXXXX)  # short: slurmd's sockets live under it
if out=$(bash "$root/common/sweep/slurm_cluster.sh" start "$cluster" 2>&1); then
  trap 'bash "$root/common/sweep/slurm_cluster.sh" stop "$cluster"; rm -rf "$cluster"' EXIT
  export SLURM_CONF=$cluster/slurm.conf PATH=$PATH:/usr/sbin
  timeout 120 srun -n 2 "$bin" "${args[@]}" --out_dir="$tmp/srun" >"$tmp/srun.log" 2>&1
  check_same "srun -n 2" "$tmp/srun" "$tmp/srun.log"
  [[ -f $tmp/srun/summary.json ]] || { sinfo; tail -n 15 "$cluster"/log/*.log; }
else
  rm -rf "$cluster"
  echo "SKIPPED srun: $(tail -1 <<<"$out")"
fi

echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
