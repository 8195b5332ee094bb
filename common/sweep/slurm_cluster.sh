#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the sweep runner's Slurm test and for trying
# `--runner=slurm` by hand (Debian's slurmctld, slurmd, slurm-client and munge; run as root).
#
#   common/sweep/slurm_cluster.sh start DIR   # writes DIR/slurm.conf, starts munged (unless one
#                                             # answers), slurmctld and slurmd; prints
#                                             # "export SLURM_CONF=DIR/slurm.conf"
#   common/sweep/slurm_cluster.sh stop DIR    # stops what start started, by its pid files
#
# Everything the daemons write (state, spool, logs, pid files) stays under DIR. Exit 2 with one
# line when a component is missing, so callers can skip with the reason.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 64; }
(($# == 2)) || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
conf=$dir/slurm.conf

stop() {
  local name pid
  for name in slurmd slurmctld munged; do
    [[ -f $dir/$name.pid ]] || continue
    pid=$(cat "$dir/$name.pid")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/$name.pid"
  done
}

start() {
  local tool
  for tool in slurmctld slurmd sbatch squeue sinfo munged munge unmunge; do
    if ! command -v "$tool" >/dev/null && [[ ! -x /usr/sbin/$tool ]]; then
      echo "slurm_cluster: $tool not installed (Debian: slurmctld slurmd slurm-client munge)" >&2
      exit 2
    fi
  done
  if (($(id -u) != 0)); then
    echo "slurm_cluster: must run as root (slurmd starts jobs as their user)" >&2
    exit 2
  fi
  export PATH=$PATH:/usr/sbin
  stop  # a previous cluster in the same directory
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"

  # munge authenticates every Slurm message; reuse a running munged.
  if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    [[ -s /etc/munge/munge.key ]] || mungekey -c -f -k /etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge
    # munged forks into the background and writes its own pid file, where the munge user can.
    local pidfile=/run/munge/munged.$$.pid
    rm -f "$pidfile"
    runuser -u munge -- munged --force --pid-file="$pidfile" >/dev/null 2>&1 ||
      munged --force --pid-file="$pidfile"
    for _ in $(seq 50); do [[ -s $pidfile ]] && break; sleep 0.1; done
    [[ -s $pidfile ]] || { echo "slurm_cluster: munged did not start" >&2; exit 1; }
    mv "$pidfile" "$dir/munged.pid"
  fi

  local host port
  host=$(hostname -s)
  port=$((20000 + RANDOM % 20000))
  cat >"$conf" <<EOF
ClusterName=dl-papers-test
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=300
NodeName=$host CPUs=$(getconf _NPROCESSORS_ONLN) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$conf
  slurmctld -f "$conf"
  slurmd -f "$conf"
  for _ in $(seq 100); do
    if sinfo -h -o %T 2>/dev/null | grep -qx idle; then
      echo "export SLURM_CONF=$conf"
      return 0
    fi
    sleep 0.2
  done
  echo "slurm_cluster: the node did not come up in 20 s; see $dir/log" >&2
  stop
  exit 1
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
