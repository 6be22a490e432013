#!/usr/bin/env bash
# Starts or stops a throw-away one-node Slurm cluster (munged + slurmctld + slurmd) on this machine, for the
# integration test of `nas sweep --executor slurm`. Everything the cluster owns (munge key and socket, slurm.conf,
# state, spool, logs, pid files) lives in one state directory, so it never touches /etc/slurm, /etc/munge or a
# system cluster, and two clusters can run side by side. Works without systemd, as root or as a plain user.
#
#   bash scripts/slurm_cluster.sh start DIR   # DIR: new or empty directory; waits until the node is idle
#   source DIR/env                            # exports SLURM_CONF, so sbatch/squeue/scontrol talk to this cluster
#   bash scripts/slurm_cluster.sh stop DIR    # stops exactly the daemons that start recorded in DIR/pids
#
# start installs slurm-wlm and munge first if they are missing (through apt_install.sh). It prints one line to
# stderr when the cluster is up; on failure it names the daemon and the log to read, stops what it started and
# exits 1. stop is idempotent. Usage errors exit 2.
set -euo pipefail

prog=slurm_cluster
here="$(cd "$(dirname "$0")" && pwd)"

usage() {
  echo "usage: bash scripts/slurm_cluster.sh start|stop DIR" >&2
  exit 2
}
die() {
  echo "$prog: $*" >&2
  exit 1
}

(($# == 2)) || usage
action=$1
[ -n "$2" ] || usage
case "$action" in start | stop) ;; *) usage ;; esac

# Daemons we may have started; stop refuses to signal a recorded pid whose process is something else (the pid was
# reused after a reboot or a crash), so a stale pids file can never kill an unrelated process.
# A zombie counts as gone: in a container whose PID 1 never reaps (CI often runs `tail -f /dev/null`), a daemon that
# exited stays in /proc as state Z forever and must not make stop wait and then report a failed KILL.
is_ours() {
  local comm stat
  comm="$(cat "/proc/$1/comm" 2>/dev/null)" || return 1
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [ "${stat%% *}" != Z ] || return 1
  case "$comm" in munged | slurmctld | slurmd) return 0 ;; *) return 1 ;; esac
}

stop_cluster() {
  local dir=$1
  if [ ! -f "$dir/pids" ]; then
    echo "$prog: nothing to stop in $dir (no pids file)" >&2
    return 0
  fi
  # Cancel our jobs first while slurmctld and slurmd still run: killing slurmd does not end the slurmstepd and job
  # processes it spawned, and those are not in the pids file. SLURM_CONF confines scancel to this cluster.
  local pid ctld_alive=0
  while read -r pid; do
    [ -n "$pid" ] && is_ours "$pid" && [ "$(cat "/proc/$pid/comm")" = slurmctld ] && ctld_alive=1
  done <"$dir/pids"
  if ((ctld_alive)) && [ -f "$dir/slurm.conf" ]; then
    local i jobs
    jobs="$(SLURM_CONF="$dir/slurm.conf" timeout 10 squeue -h -o %i 2>/dev/null | wc -l)" || jobs=0
    if ((jobs > 0)); then
      SLURM_CONF="$dir/slurm.conf" timeout 10 scancel -u "$(id -un)" 2>/dev/null || true
      for ((i = 0; i < 20; i++)); do
        [ -z "$(SLURM_CONF="$dir/slurm.conf" timeout 5 squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.5
      done
      echo "$prog: cancelled $jobs queued/running job(s)" >&2
    fi
  fi

  # Reverse start order: slurmd, slurmctld, then munged, which the slurm daemons need while they shut down.
  local pids=() alive=() stopped=()
  mapfile -t pids < <(tac "$dir/pids")
  for pid in "${pids[@]}"; do
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    if is_ours "$pid"; then
      stopped+=("$(cat "/proc/$pid/comm")[$pid]")
      alive+=("$pid")
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  # Give them up to 10 s to exit cleanly (slurmctld saves state), then KILL what is left.
  local t left=()
  for ((t = 0; t < 40; t++)); do
    left=()
    for pid in "${alive[@]}"; do is_ours "$pid" && left+=("$pid"); done
    ((${#left[@]})) || break
    sleep 0.25
  done
  if ((${#left[@]})); then
    echo "$prog: killing ${left[*]} (still running 10 s after TERM)" >&2
    kill -KILL "${left[@]}" 2>/dev/null || true
  fi
  mv "$dir/pids" "$dir/pids.stopped"
  if ((${#stopped[@]})); then
    echo "$prog: stopped ${stopped[*]}" >&2
  else
    echo "$prog: nothing was running in $dir" >&2
  fi
}

if [ "$action" = stop ]; then
  [ -d "$2" ] || {
    echo "$prog: nothing to stop ($2 does not exist)" >&2
    exit 0
  }
  stop_cluster "$(cd "$2" && pwd -P)"
  exit 0
fi

# ---------------------------------------------------------------------------------------------------------- start
bash "$here/apt_install.sh" slurm-wlm munge
for tool in munged slurmctld slurmd sinfo sbatch; do
  command -v "$tool" >/dev/null || die "$tool not found after installing slurm-wlm and munge"
done

if [ -e "$2" ] && [ -n "$(ls -A "$2")" ]; then
  die "$2 is not empty; give start a new or empty directory"
fi
mkdir -p "$2"
dir="$(cd "$2" && pwd -P)"
# munged refuses a socket or key in a directory others may write to, and warns when others cannot reach the
# socket: 0711 lets other users' clients reach munge.sock and slurm.conf; the key itself is 0400.
chmod 0711 "$dir"

# Unix socket paths are limited to 107 bytes. Both munge's socket and the per-step sockets slurmd creates in its
# spool (<spool>/<node>_<jobid>.<stepid>) live under DIR, so a long DIR fails late and obscurely; fail early.
node="$(hostname -s)"
[ -n "$node" ] || die "hostname -s is empty; cannot name the node"
((${#dir} + ${#node} + 40 <= 107)) || die "state directory path too long for Unix sockets (${#dir} chars): $dir"

user="$(id -un)"
ncpus="$(nproc)"

# Two free TCP ports, random in 20000-59999 rather than 6817/6818, so a system cluster or a second test cluster does
# not collide. A port counts as free when nothing answers a connect on 127.0.0.1 (/dev/tcp) and, where ss exists
# (iproute2 is not in a bare Debian image), nothing listens on it on any address.
port_free() {
  if command -v ss >/dev/null; then
    [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ] || return 1
  fi
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
pick_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    [ "$p" != "${1:-}" ] && port_free "$p" && {
      echo "$p"
      return 0
    }
  done
  die "no free TCP port found in 20000-59999"
}
ctld_port="$(pick_port)"
slurmd_port="$(pick_port "$ctld_port")"

# From here on, anything that fails must not leave daemons behind.
started=0
cleanup_on_failure() {
  local rc=$?
  ((started)) && return
  stop_cluster "$dir" 2>/dev/null || true
  exit "$((rc ? rc : 1))"
}
trap cleanup_on_failure EXIT
: >"$dir/pids"

# Daemons run in the foreground (-F / -D) as background jobs: $! is then the daemon's own pid, no pid-file race.
# setsid detaches them from the caller's terminal and signals; all stdio goes to files under DIR so a CI step that
# captures our output does not hang waiting for the daemons to close its pipe.
launch() {
  local name=$1
  shift
  setsid "$@" </dev/null >"$dir/$name.stdout" 2>&1 &
  echo "$!" >>"$dir/pids"
}

# munge: its own key, socket, seed and pid file, so no system munged (or /etc/munge/munge.key) is involved.
dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
chmod 0400 "$dir/munge.key"
# In the foreground munged logs to stderr, i.e. to DIR/munged.stdout. --force: start even if a parent of DIR is
# writable by others (CI workspaces often are). --origin: skip resolving the hostname, which may not resolve in CI.
launch munged munged --foreground --force \
  --socket="$dir/munge.sock" --key-file="$dir/munge.key" --pid-file="$dir/munged.pid" \
  --seed-file="$dir/munged.seed" --origin=127.0.0.1

mkdir -p "$dir/state" "$dir/spool"
# SlurmUser and SlurmdUser are whoever runs this script. As root (CI) that is the usual setup; a non-root slurmd
# can only run its own user's jobs, which is all the test needs (checked as user nobody).
cat >"$dir/slurm.conf" <<EOF
# Generated by scripts/slurm_cluster.sh: a one-node test cluster whose files all live in $dir.
ClusterName=mcunastest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=$user
# Our own munged: clients, slurmctld and slurmd (auth and job credentials) all read the socket from AuthInfo.
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No systemd and possibly no writable cgroup tree in a container: track job processes through /proc and do no
# CPU binding, so no cgroup plugin is ever loaded.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Without accounting sacct knows nothing; this plain-text file keeps one line per finished job (array tasks
# included, with state and exit code) for as long as DIR exists, unlike scontrol's MinJobAge window.
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# No extra delay before scheduling batch jobs (slurmctld still schedules about once a second). MinJobAge (the
# default, spelt out) is how long finished jobs and their exit codes stay visible to scontrol and squeue -t all.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=300
MessageTimeout=10
SlurmdTimeout=30
ReturnToService=2
# Trust the resources written here even if the container reports a different topology, instead of draining.
SlurmdParameters=config_overrides
PlugStackConfig=$dir/plugstack.conf
NodeName=$node NodeAddr=127.0.0.1 CPUs=$ncpus RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
# An empty SPANK config, so no plugin listed in the host's /etc/slurm ends up in our job steps.
: >"$dir/plugstack.conf"

export SLURM_CONF="$dir/slurm.conf"
echo "export SLURM_CONF=$dir/slurm.conf" >"$dir/env"

# munged must answer before the slurm daemons start, or their first authentication fails.
for ((i = 0; i < 50; i++)); do
  [ -S "$dir/munge.sock" ] && break
  sleep 0.1
done
[ -S "$dir/munge.sock" ] || die "munged did not start; read $dir/munged.stdout"

launch slurmctld slurmctld -D -f "$dir/slurm.conf"
# -N: the node name in slurm.conf, even if hostname -s changes or the container's hostname does not resolve.
launch slurmd slurmd -D -f "$dir/slurm.conf" -N "$node"

logs_of() {
  case "$1" in munged) echo "$dir/munged.stdout" ;; *) echo "$dir/$1.log and $dir/$1.stdout" ;; esac
}
# Wait for the node to register and turn idle. A daemon that exits is reported at once instead of after the timeout.
mapfile -t pids <"$dir/pids"
names=(munged slurmctld slurmd)
state=""
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  for k in 0 1 2; do
    kill -0 "${pids[k]}" 2>/dev/null || die "${names[k]} exited during start; read $(logs_of "${names[k]}")"
  done
  state="$(timeout 5 sinfo -h -o %T 2>/dev/null || true)"
  [ "$state" = idle ] && break
  sleep 0.5
done
if [ "$state" != idle ]; then
  if ! timeout 5 scontrol ping 2>/dev/null | grep -q UP; then
    die "slurmctld does not answer after 60 s; read $dir/slurmctld.log"
  fi
  die "node $node is '${state:-unknown}' after 60 s, not idle (slurmd); read $dir/slurmd.log and $dir/slurmctld.log"
fi

started=1
trap - EXIT
echo "$prog: up (node $node, $ncpus CPUs, SLURM_CONF=$dir/slurm.conf)" >&2
