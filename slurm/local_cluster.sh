#!/usr/bin/env bash
# A single-node SLURM cluster, with accounting (slurmdbd + MariaDB), on this machine.
#
#   slurm/local_cluster.sh install   # apt-get the packages (idempotent; needs root)
#   slurm/local_cluster.sh start     # write configs, start munge, mariadb, slurmdbd, slurmctld, slurmd
#   slurm/local_cluster.sh status    # exit 0 when every daemon runs and the node takes jobs
#   slurm/local_cluster.sh stop      # stop the daemons we started (by their PID files)
#   slurm/local_cluster.sh purge     # stop, then delete the state dir (job state + accounting DB)
#   slurm/local_cluster.sh env       # print `export SLURM_CONF=...` for clients in another shell
#
# It exists so that `cluster=slurm` and tests/test_slurm.py run against a real scheduler, not a mock.
# Everything (configs, spool, logs, PID files, the database) lives in one state dir:
# $SYMEXP_SLURM_DIR (default /tmp/symexp-slurm). The only files written outside it are the
# symlinks /etc/slurm/slurm.conf and /etc/slurm/slurmdbd.conf (so plain `sinfo` works in any
# shell; never written over a real file) and munged's default PID file /run/munge/munged.pid.
# Daemons are stopped through their PID files only, never by process name.
#
# Settings (environment): SYMEXP_SLURM_DIR, SYMEXP_SLURM_CLUSTER (symexp-local),
# SYMEXP_SLURM_PARTITION (debug), SYMEXP_SLURM_MAXTIME (partition MaxTime, minutes; 60),
# SYMEXP_SLURM_DB_PORT (MariaDB on 127.0.0.1; 13306), SYMEXP_SLURM_PORTS_BASE (16817 -> slurmctld,
# +1 slurmd, +2 slurmdbd), SYMEXP_SLURM_START_TIMEOUT (seconds per daemon; 60).
set -euo pipefail

STATE=${SYMEXP_SLURM_DIR:-/tmp/symexp-slurm}
CLUSTER=${SYMEXP_SLURM_CLUSTER:-symexp-local}
PARTITION=${SYMEXP_SLURM_PARTITION:-debug}
MAXTIME=${SYMEXP_SLURM_MAXTIME:-60}
DB_PORT=${SYMEXP_SLURM_DB_PORT:-13306}
PORT_BASE=${SYMEXP_SLURM_PORTS_BASE:-16817}
TIMEOUT=${SYMEXP_SLURM_START_TIMEOUT:-60}
ACCOUNT=symexp
PACKAGES=(munge mariadb-server slurmdbd slurmctld slurmd slurm-client)

CTLD_PORT=$PORT_BASE
SLURMD_PORT=$((PORT_BASE + 1))
DBD_PORT=$((PORT_BASE + 2))
ETC=$STATE/etc
LOG=$STATE/log
RUN=$STATE/run
DB_DIR=$STATE/db
DB_RUN=$STATE/db-run
DB_SOCK=$DB_RUN/mysqld.sock
MUNGE_PID=/run/munge/munged.pid
MUNGE_OURS=$RUN/munged.started-by-us
export SLURM_CONF=$ETC/slurm.conf

say() { echo "[local_cluster] $*"; }
die() { echo "[local_cluster] ERROR: $*" >&2; exit 1; }

# Show the end of a log file on stderr (used before failing).
show_log() {
    local f=$1
    if [[ -s $f ]]; then
        echo "----- last lines of $f -----" >&2
        tail -n 25 "$f" >&2
        echo "-----" >&2
    else
        echo "(log $f is empty or missing)" >&2
    fi
}
fail() { # fail <message> <log files...>
    local msg=$1; shift
    echo "[local_cluster] ERROR: $msg" >&2
    for f in "$@"; do show_log "$f"; done
    exit 1
}

need_root() { [[ $(id -u) -eq 0 ]] || die "'$1' needs root (it starts system daemons as root/munge/mysql)."; }

# PID read from a PID file, if that process is alive and its command name matches (PIDs get reused).
pid_of() { # pid_of <pidfile> <comm-prefix>
    local f=$1 name=$2 pid comm
    [[ -r $f ]] || return 1
    pid=$(tr -dc '0-9' <"$f")
    [[ -n $pid ]] && [[ -r /proc/$pid/comm ]] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [[ $comm == "$name"* ]] || return 1
    echo "$pid"
}
alive() { pid_of "$@" >/dev/null; }

wait_for() { # wait_for <seconds> <command...>: retry the command every 0.5 s
    local secs=$1; shift
    local end=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || return 1
        sleep 0.5
    done
}

# Like wait_for, but gives up early when the daemon wrote its PID file and then died.
wait_daemon() { # wait_daemon <seconds> <pidfile> <comm-prefix> <command...>
    local secs=$1 f=$2 name=$3
    shift 3
    local end=$((SECONDS + secs)) seen=0
    until "$@" >/dev/null 2>&1; do
        if alive "$f" "$name"; then
            seen=1
        elif ((seen)) || [[ -s $f ]]; then
            return 2
        fi
        ((SECONDS < end)) || return 1
        sleep 0.5
    done
}

# Stop the processes recorded in PID files: SIGTERM to all of them, wait, SIGKILL what is left
# after 20 s. Never by name: each PID is checked against its expected command name first.
stop_pidfiles() { # stop_pidfiles <label:pidfile:comm-prefix>...
    local spec label f name pid t0=$SECONDS i
    local -a labels=() pids=() files=()
    for spec in "$@"; do
        IFS=: read -r label f name <<<"$spec"
        files+=("$f")
        if pid=$(pid_of "$f" "$name"); then
            kill -TERM "$pid" 2>/dev/null || true
            labels+=("$label") pids+=("$pid")
        fi
    done
    for ((i = 0; i < ${#pids[@]}; i++)); do
        while [[ -d /proc/${pids[i]} ]] && ((SECONDS - t0 < 20)); do sleep 0.2; done
        if [[ -d /proc/${pids[i]} ]]; then
            say "${labels[i]} (pid ${pids[i]}) ignored SIGTERM for 20 s; sending SIGKILL"
            kill -KILL "${pids[i]}" 2>/dev/null || true
            sleep 0.5
        fi
        say "stopped ${labels[i]} (pid ${pids[i]}) after $((SECONDS - t0)) s"
    done
    rm -f "${files[@]}"
}
stop_pidfile() { stop_pidfiles "$1:$2:$3"; }

# ---------------------------------------------------------------------------------------------
cmd_install() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        say "packages already installed: ${PACKAGES[*]}"
        return 0
    fi
    need_root install
    say "installing: ${missing[*]}"
    # Package scripts would try to start the daemons with their default configs; we start them
    # ourselves. Without a policy-rc.d (Docker images have one) forbid that for the install only.
    local tmp_policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        tmp_policy=/usr/sbin/policy-rc.d
    fi
    local rc=0 aptlog
    aptlog=$(mktemp)
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                -o Dpkg::Use-Pty=0 "${missing[@]}"
    } >"$aptlog" 2>&1 || rc=$?
    [[ -n $tmp_policy ]] && rm -f "$tmp_policy"
    if ((rc != 0)); then
        fail "apt-get failed (exit $rc)" "$aptlog"
    fi
    rm -f "$aptlog"
    say "installed: ${missing[*]}"
}

installed() { command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
    command -v slurmdbd >/dev/null && command -v munged >/dev/null && command -v mariadbd >/dev/null &&
    command -v sinfo >/dev/null; }

# ---------------------------------------------------------------------------------------------
write_configs() {
    local host cpus mem_kb real_mem def_mem
    host=$(hostname -s)
    cpus=$(nproc)
    mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
    real_mem=$((mem_kb * 85 / 100 / 1024)) # MB
    def_mem=$((real_mem / cpus))           # jobs without --mem must not take the whole node

    mkdir -p "$ETC" "$LOG" "$RUN" "$STATE/spool/ctld" "$STATE/spool/d"
    chmod 755 "$STATE"

    cat >"$ETC/slurm.conf.new" <<EOF
# Written by slurm/local_cluster.sh -- regenerated on every start; edit the script, not this file.
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/spool/ctld
SlurmdSpoolDir=$STATE/spool/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# Per-step CPU accounting (sacct TotalCPU), for bench/bench_slurm_layouts.py.
JobAcctGatherType=jobacct_gather/linux
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
# Jobs are requeueable (preemption, node failure, scontrol requeue, submitit's checkpoint).
JobRequeue=1
# submitit ignores SIGTERM (it waits for its USR2 checkpoint signal); do not keep a cancelled job
# alive for the default 30 s before the SIGKILL.
KillWait=5
MinJobAge=300
InactiveLimit=0
SlurmdTimeout=300
Waittime=0
# A job asking for more than the partition allows is rejected at submission, not left pending.
EnforcePartLimits=ALL
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
JobCompType=jobcomp/none
MailProg=/bin/true
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real_mem State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=$MAXTIME DefaultTime=10 DefMemPerCPU=$def_mem State=UP
EOF

    cat >"$ETC/slurmdbd.conf.new" <<EOF
# Written by slurm/local_cluster.sh
AuthType=auth/munge
DbdAddr=127.0.0.1
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=root
LogFile=$LOG/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=symexp-local
StorageLoc=slurm_acct_db
EOF
    mv "$ETC/slurm.conf.new" "$ETC/slurm.conf"
    mv "$ETC/slurmdbd.conf.new" "$ETC/slurmdbd.conf"
    chmod 644 "$ETC/slurm.conf"
    chmod 600 "$ETC/slurmdbd.conf"

    # Let clients find the config without SLURM_CONF; never replace a real (non-symlink) file.
    mkdir -p /etc/slurm
    local f
    for f in slurm.conf slurmdbd.conf; do
        if [[ -L /etc/slurm/$f || ! -e /etc/slurm/$f ]]; then
            ln -sfn "$ETC/$f" "/etc/slurm/$f"
        else
            say "note: /etc/slurm/$f is a real file; clients need: export SLURM_CONF=$ETC/slurm.conf"
        fi
    done
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    if munge_works; then
        say "munge: already running"
        return 0
    fi
    [[ -s /etc/munge/munge.key ]] || {
        say "munge: creating /etc/munge/munge.key"
        runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
    }
    install -d -o munge -g munge -m 755 /run/munge
    install -d -o munge -g munge -m 700 /var/log/munge /var/lib/munge
    rm -f "$MUNGE_PID"
    setsid runuser -u munge -- munged --pid-file="$MUNGE_PID" </dev/null >>"$LOG/munged.out" 2>&1 ||
        fail "munged did not start" "$LOG/munged.out" /var/log/munge/munged.log
    touch "$MUNGE_OURS"
    wait_daemon "$TIMEOUT" "$MUNGE_PID" munged munge_works || fail "munged started but munge -n | unmunge fails" /var/log/munge/munged.log
    say "munge: started (pid $(cat "$MUNGE_PID"))"
}

db_ping() { mariadb-admin --no-defaults --socket="$DB_SOCK" -uroot ping; }

start_mariadb() {
    if alive "$DB_RUN/mariadbd.pid" mariadbd && db_ping >/dev/null 2>&1; then
        say "mariadb: already running"
        return 0
    fi
    install -d -o mysql -g mysql -m 755 "$DB_RUN" /run/mysqld
    if [[ ! -d $DB_DIR/mysql ]]; then
        install -d -o mysql -g mysql -m 750 "$DB_DIR"
        mariadb-install-db --no-defaults --user=mysql --datadir="$DB_DIR" --skip-test-db \
            --auth-root-authentication-method=socket >"$LOG/mariadb-install.log" 2>&1 ||
            fail "mariadb-install-db failed" "$LOG/mariadb-install.log"
    fi
    runuser -u mysql -- test -w "$DB_DIR" -a -w "$DB_RUN" ||
        die "user mysql cannot write $DB_DIR / $DB_RUN: put SYMEXP_SLURM_DIR where every user can traverse (e.g. under /tmp)"
    rm -f "$DB_RUN/mariadbd.pid"
    [[ -e $LOG/mariadb.log ]] || install -o mysql -g mysql -m 640 /dev/null "$LOG/mariadb.log"
    setsid mariadbd --no-defaults --user=mysql --datadir="$DB_DIR" --socket="$DB_SOCK" \
        --pid-file="$DB_RUN/mariadbd.pid" --port="$DB_PORT" --bind-address=127.0.0.1 \
        --log-error="$LOG/mariadb.log" --skip-log-bin --innodb-buffer-pool-size=128M \
        --innodb-log-file-size=64M --innodb-lock-wait-timeout=900 --max-allowed-packet=64M \
        </dev/null >>"$LOG/mariadb.out" 2>&1 &
    local db_pid=$! end=$((SECONDS + TIMEOUT))
    disown || true
    until db_ping >/dev/null 2>&1; do
        [[ -d /proc/$db_pid ]] && ((SECONDS < end)) || break
        sleep 0.5
    done
    db_ping >/dev/null 2>&1 || fail "mariadb did not come up (socket $DB_SOCK, port $DB_PORT)" \
        "$LOG/mariadb.log" "$LOG/mariadb.out"
    mariadb --no-defaults --socket="$DB_SOCK" -uroot <<'SQL' >"$LOG/mariadb-setup.log" 2>&1 ||
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'symexp-local';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'symexp-local';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
SQL
        fail "could not create the slurm database user" "$LOG/mariadb-setup.log"
    say "mariadb: started (pid $(cat "$DB_RUN/mariadbd.pid"), port $DB_PORT)"
}

dbd_answers() { sacctmgr -n -P show cluster format=cluster; }

start_slurmdbd() {
    if alive "$RUN/slurmdbd.pid" slurmdbd && dbd_answers >/dev/null 2>&1; then
        say "slurmdbd: already running"
        return 0
    fi
    stop_pidfile slurmdbd "$RUN/slurmdbd.pid" slurmdbd
    setsid slurmdbd </dev/null >>"$LOG/slurmdbd.out" 2>&1 ||
        fail "slurmdbd did not start" "$LOG/slurmdbd.log" "$LOG/slurmdbd.out"
    wait_daemon "$TIMEOUT" "$RUN/slurmdbd.pid" slurmdbd dbd_answers ||
        fail "slurmdbd did not come up (sacctmgr gets no answer)" "$LOG/slurmdbd.log" "$LOG/slurmdbd.out"
    say "slurmdbd: started (pid $(cat "$RUN/slurmdbd.pid"))"
}

# Register cluster, account and the calling users (idempotent: sacctmgr -i refuses duplicates).
register_accounting() {
    local out user users=(root)
    [[ -n ${SUDO_USER:-} && ${SUDO_USER} != root ]] && users+=("$SUDO_USER")
    if ! sacctmgr -n -P show cluster format=cluster | grep -qx "$CLUSTER"; then
        out=$(sacctmgr -i add cluster "$CLUSTER" 2>&1) || fail "sacctmgr add cluster failed: $out" "$LOG/slurmdbd.log"
    fi
    if ! sacctmgr -n -P show account format=account | grep -qx "$ACCOUNT"; then
        out=$(sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description=symexp Organization=symexp 2>&1) ||
            fail "sacctmgr add account failed: $out" "$LOG/slurmdbd.log"
    fi
    for user in "${users[@]}"; do
        if ! sacctmgr -n -P show assoc cluster="$CLUSTER" account="$ACCOUNT" user="$user" format=user | grep -qx "$user"; then
            out=$(sacctmgr -i add user "$user" Account="$ACCOUNT" Cluster="$CLUSTER" 2>&1) ||
                fail "sacctmgr add user $user failed: $out" "$LOG/slurmdbd.log"
        fi
    done
}

ctld_answers() { scontrol ping | grep -q "UP"; }

start_slurmctld() {
    if alive "$RUN/slurmctld.pid" slurmctld && ctld_answers >/dev/null 2>&1; then
        say "slurmctld: already running; re-reading slurm.conf"
        scontrol reconfigure >/dev/null 2>&1 || true
        return 0
    fi
    stop_pidfile slurmctld "$RUN/slurmctld.pid" slurmctld
    # Job state is kept across stop/start on purpose: job ids must keep increasing, because the
    # accounting database (same state dir) remembers every old job id.
    CTLD_FRESH=1
    setsid slurmctld -i </dev/null >>"$LOG/slurmctld.out" 2>&1 ||
        fail "slurmctld did not start" "$LOG/slurmctld.log" "$LOG/slurmctld.out"
    wait_daemon "$TIMEOUT" "$RUN/slurmctld.pid" slurmctld ctld_answers ||
        fail "slurmctld did not come up (scontrol ping)" "$LOG/slurmctld.log" "$LOG/slurmctld.out"
    say "slurmctld: started (pid $(cat "$RUN/slurmctld.pid"))"
}

node_state() { sinfo -h -N -p "$PARTITION" -o "%T" 2>/dev/null | head -n 1; }
node_ready() { case $(node_state) in idle | mixed | allocated | completing) return 0 ;; *) return 1 ;; esac; }
# A node left drained/down by an earlier run ("Kill task failed", "Not responding", ...): this is
# a throw-away test cluster, so put it back into service.
resume_if_drained() {
    local state
    state=$(node_state)
    case $state in
    *drain* | down* | fail*)
        say "node $(hostname -s) is '$state' ($(scontrol show node "$(hostname -s)" | sed -n 's/.*Reason=//p')); resuming it"
        scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true
        ;;
    esac
}

start_slurmd() {
    if ! alive "$RUN/slurmd.pid" slurmd; then
        setsid slurmd </dev/null >>"$LOG/slurmd.out" 2>&1 ||
            fail "slurmd did not start" "$LOG/slurmd.log" "$LOG/slurmd.out"
        wait_for "$TIMEOUT" alive "$RUN/slurmd.pid" slurmd ||
            fail "slurmd exited or wrote no PID file within ${TIMEOUT}s" "$LOG/slurmd.log" "$LOG/slurmd.out"
        say "slurmd: started (pid $(cat "$RUN/slurmd.pid"))"
    else
        say "slurmd: already running"
    fi
    wait_for 10 node_ready || resume_if_drained
    if ! wait_for "$TIMEOUT" node_ready; then
        # A node left down/drained by an earlier run: resume it once, then give up.
        scontrol update NodeName="$(hostname -s)" State=RESUME >/dev/null 2>&1 || true
        wait_for 15 node_ready || fail "node $(hostname -s) is '$(node_state)', not idle, after ${TIMEOUT}s
$(scontrol show node "$(hostname -s)" 2>&1 | grep -E 'State|Reason' || true)" "$LOG/slurmd.log" "$LOG/slurmctld.log"
    fi
}

cmd_start() {
    need_root start
    installed || die "SLURM is not installed; run: $0 install"
    local t0=$SECONDS
    write_configs
    start_munge
    start_mariadb
    start_slurmdbd
    register_accounting
    CTLD_FRESH=0
    start_slurmctld
    start_slurmd
    # slurmctld recovers the jobs of its last life from the state dir. On this throw-away cluster
    # their submitters are gone (a killed test run, a stopped machine): left in the queue they would
    # hold the node's CPUs and every new job would wait behind them.
    if [[ $CTLD_FRESH == 1 ]]; then end_jobs "jobs recovered from an earlier run of this cluster"; fi
    say "cluster '$CLUSTER' up in $((SECONDS - t0)) s: partition '$PARTITION', node $(hostname -s) $(node_state)"
    sinfo
}

# Cancel what is still queued or running and wait until the node has no job left, so that no job
# step outlives slurmd (its processes would be orphaned, and the next start would find the node
# drained with "Kill task failed").
end_jobs() {
    alive "$RUN/slurmctld.pid" slurmctld && alive "$RUN/slurmd.pid" slurmd || return 0
    local jobs what=${1:-jobs still in the queue}
    jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ') || return 0
    [[ -n ${jobs// /} ]] || return 0
    say "cancelling $what: $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    wait_for 60 no_jobs_left || say "jobs still ending after 60 s: $(squeue -h -o '%A:%T' | tr '\n' ' ')"
}
no_jobs_left() { [[ -z $(squeue -h -o %A 2>/dev/null) ]]; }

cmd_stop() {
    end_jobs
    # Order: compute daemon, controller, accounting, database, munge (only if we started it).
    stop_pidfiles "slurmd:$RUN/slurmd.pid:slurmd" "slurmctld:$RUN/slurmctld.pid:slurmctld"
    stop_pidfile slurmdbd "$RUN/slurmdbd.pid" slurmdbd
    if [[ -e $MUNGE_OURS ]]; then
        stop_pidfiles "mariadbd:$DB_RUN/mariadbd.pid:mariadbd" "munged:$MUNGE_PID:munged"
        rm -f "$MUNGE_OURS"
    else
        stop_pidfile mariadbd "$DB_RUN/mariadbd.pid" mariadbd
    fi
    local f
    for f in slurm.conf slurmdbd.conf; do
        if [[ -L /etc/slurm/$f && $(readlink "/etc/slurm/$f") == "$ETC/$f" ]]; then rm -f "/etc/slurm/$f"; fi
    done
    say "stopped (state kept in $STATE; '$0 purge' deletes it)"
}

cmd_status() {
    local ok=0 label f name pid
    for spec in "munged:$MUNGE_PID:munged" "mariadbd:$DB_RUN/mariadbd.pid:mariadbd" \
        "slurmdbd:$RUN/slurmdbd.pid:slurmdbd" "slurmctld:$RUN/slurmctld.pid:slurmctld" \
        "slurmd:$RUN/slurmd.pid:slurmd"; do
        IFS=: read -r label f name <<<"$spec"
        if pid=$(pid_of "$f" "$name"); then
            printf '  %-10s running (pid %s)\n' "$label" "$pid"
        else
            printf '  %-10s not running\n' "$label"
            ok=1
        fi
    done
    # (sinfo would wait for a stopped controller for a long time: ask only when it runs)
    if alive "$RUN/slurmctld.pid" slurmctld && [[ -e $ETC/slurm.conf ]] && node_ready; then
        sinfo
    else
        echo "  node not ready"
        ok=3
    fi
    return $ok
}

cmd_purge() {
    need_root purge
    cmd_stop
    case $STATE in /tmp/* | "${TMPDIR:-/tmp}"/*) ;; *) [[ -e $STATE/etc/slurm.conf ]] || die "refusing to delete $STATE (not a state dir)" ;; esac
    rm -rf "$STATE"
    say "deleted $STATE"
}

case ${1:-} in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
restart) cmd_stop && cmd_start ;;
status) cmd_status ;;
purge) cmd_purge ;;
env) echo "export SLURM_CONF=$ETC/slurm.conf" ;;
*)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
