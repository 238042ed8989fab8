#!/usr/bin/env bash
# bench/compare.sh — side-by-side throughput of dogpiled and memcached under memcaslap.
#
# A report, not a test: exits 0 when every run ran, 2 when something failed to run,
# and 1 only when MIN_RATIO is set and a load's median ratio (dogpiled/memcached) is below it.
# See bench/README.md for what it measures and how.
set -Eeuo pipefail

BENCH_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$BENCH_DIR/.." && pwd)

usage() {
  cat <<EOF
usage: bench/compare.sh [options]

  -m, --memory MB          -m for both servers              (env MEMORY_MB, default 64)
  -t, --threads N          -t for both servers              (env THREADS, default 4)
  -r, --rounds N           rounds per load                  (env ROUNDS, default 3)
  -d, --duration SECS      length of each measured run      (env DURATION, default 10)
  -w, --warmup SECS        untimed warm-up run per server   (env WARMUP, default 3; 0 = none)
  -c, --concurrency N      memcaslap connections            (env CONCURRENCY, default 50)
  -T, --client-threads N   memcaslap threads                (env CLIENT_THREADS, default 2)
      --window SIZE        memcaslap -w, keys kept per conn (env WINDOW, default 1k)
  -l, --loads LIST         comma list of get-heavy,set-heavy (env LOADS, default both)
      --min-ratio X        exit 1 if a median ratio < X     (env MIN_RATIO, default unset)
      --json FILE          also write every run as JSON     (env JSON_OUT, default unset)
      --keep-logs          keep the server/memcaslap logs   (env KEEP_LOGS=1)
  -h, --help

other env:
  DOGPILED_BIN    dogpiled binary (default \$repo/.build/release/dogpiled, built if missing)
  DOGPILED_CMD    a command used instead of DOGPILED_BIN, e.g. "memcached -u root -U 0"
  DOGPILED_ARGS   extra arguments for dogpiled (after -l/-p/-m/-t)
  MEMCACHED_BIN   default /usr/bin/memcached
  MEMCASLAP_BIN   default memcaslap from PATH (apt-get install libmemcached-tools if missing)
  SERVER_CPU      CPU both servers are pinned to with taskset (default 1)
  LOADGEN_CPU     CPU memcaslap is pinned to (default 0); pinning is off with one CPU or no taskset
EOF
}

MEMORY_MB=${MEMORY_MB:-64}
THREADS=${THREADS:-4}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONCURRENCY=${CONCURRENCY:-50}
CLIENT_THREADS=${CLIENT_THREADS:-2}
WINDOW=${WINDOW:-1k}
LOADS=${LOADS:-get-heavy,set-heavy}
MIN_RATIO=${MIN_RATIO:-}
KEEP_LOGS=${KEEP_LOGS:-}
MEMCACHED_BIN=${MEMCACHED_BIN:-/usr/bin/memcached}
DOGPILED_CMD=${DOGPILED_CMD:-}
DOGPILED_ARGS=${DOGPILED_ARGS:-}
DEFAULT_DOGPILED_BIN="$REPO_ROOT/.build/release/dogpiled"
DOGPILED_BIN=${DOGPILED_BIN:-$DEFAULT_DOGPILED_BIN}
JSON_OUT=${JSON_OUT:-}
SERVER_CPU=${SERVER_CPU:-1}
LOADGEN_CPU=${LOADGEN_CPU:-0}

die() { echo "compare.sh: error: $*" >&2; exit 2; }

while (($#)); do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --keep-logs) KEEP_LOGS=1; shift; continue ;;
  esac
  (($# >= 2)) || die "$1 needs a value"
  case $1 in
    -m|--memory) MEMORY_MB=$2 ;;
    -t|--threads) THREADS=$2 ;;
    -r|--rounds) ROUNDS=$2 ;;
    -d|--duration) DURATION=$2 ;;
    -w|--warmup) WARMUP=$2 ;;
    -c|--concurrency) CONCURRENCY=$2 ;;
    -T|--client-threads) CLIENT_THREADS=$2 ;;
    --window) WINDOW=$2 ;;
    -l|--loads) LOADS=$2 ;;
    --min-ratio) MIN_RATIO=$2 ;;
    --json) JSON_OUT=$2 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift 2
done

for v in MEMORY_MB THREADS ROUNDS DURATION WARMUP CONCURRENCY CLIENT_THREADS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
done
((ROUNDS >= 1)) || die "ROUNDS must be at least 1"
((DURATION >= 1)) || die "DURATION must be at least 1"
((CLIENT_THREADS >= 1 && CONCURRENCY >= CLIENT_THREADS)) \
  || die "need CONCURRENCY >= CLIENT_THREADS >= 1"
[[ $WINDOW =~ ^[0-9]+[kKmM]?$ ]] || die "WINDOW must look like 1000, 1k or 10k (got '$WINDOW')"
if [[ -n $MIN_RATIO ]] && ! [[ $MIN_RATIO =~ ^[0-9]*\.?[0-9]+$ ]]; then
  die "MIN_RATIO must be a number (got '$MIN_RATIO')"
fi
IFS=',' read -r -a LOAD_LIST <<<"$LOADS"
((${#LOAD_LIST[@]} > 0)) || die "no loads given"
for l in "${LOAD_LIST[@]}"; do
  [[ -f $BENCH_DIR/$l.cnf ]] || die "unknown load '$l' (no $BENCH_DIR/$l.cnf)"
done

# ---------------------------------------------------------------- cleanup ---
declare -a STARTED_PIDS=()   # every process this script started; all stopped on exit
CLIENT_PID=""
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dogpiled-bench.XXXXXX")
STATUS_OK=""

stop_pid() {  # stop_pid PID: TERM, wait up to 5 s, then KILL
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM HUP PIPE
  [[ -n $CLIENT_PID ]] && stop_pid "$CLIENT_PID"
  for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid"; done
  if [[ -n $STATUS_OK && -z $KEEP_LOGS ]]; then
    rm -rf -- "$LOG_DIR"
  elif ! rmdir -- "$LOG_DIR" 2>/dev/null; then  # (an empty one just goes)
    echo "logs: $LOG_DIR" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "compare.sh: interrupted" >&2; exit 130' INT
trap 'echo "compare.sh: terminated" >&2; exit 143' TERM HUP
trap 'exit 141' PIPE

# ------------------------------------------------------------- tools -------
MEMCASLAP_BIN=${MEMCASLAP_BIN:-$(command -v memcaslap || true)}
if [[ -z $MEMCASLAP_BIN ]]; then
  echo "memcaslap not found; installing libmemcached-tools" >&2
  ((EUID == 0)) || die "memcaslap missing and not root: apt-get install libmemcached-tools"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q libmemcached-tools >&2 \
    || { apt-get update -q >&2 && apt-get install -y -q libmemcached-tools >&2; } \
    || die "could not install libmemcached-tools"
  MEMCASLAP_BIN=$(command -v memcaslap) || die "memcaslap still not found"
fi
[[ -x $MEMCASLAP_BIN ]] || die "memcaslap not executable: $MEMCASLAP_BIN"
[[ -x $MEMCACHED_BIN ]] || die "memcached not found at $MEMCACHED_BIN (apt-get install memcached)"
command -v setsid >/dev/null || die "setsid (util-linux) not found"

# Both servers on one core, memcaslap on another: the two servers meet the same load generator
# with the same CPU, and neither competes with it (taskset execs, so $! stays the server's pid).
declare -a PIN_SERVER=() PIN_CLIENT=()
if command -v taskset >/dev/null && (($(nproc) > 1)); then
  PIN_SERVER=(taskset -c "$SERVER_CPU") PIN_CLIENT=(taskset -c "$LOADGEN_CPU")
else
  echo "compare.sh: no taskset or one CPU: running unpinned" >&2
fi

declare -a MC_CMD=("$MEMCACHED_BIN" -U 0)
((EUID == 0)) && MC_CMD+=(-u root)

declare -a DP_CMD
if [[ -n $DOGPILED_CMD ]]; then
  read -r -a DP_CMD <<<"$DOGPILED_CMD"
  DP_DESC="DOGPILED_CMD=\"$DOGPILED_CMD\""
else
  if [[ ! -x $DOGPILED_BIN ]]; then
    [[ $DOGPILED_BIN == "$DEFAULT_DOGPILED_BIN" ]] || die "DOGPILED_BIN not found: $DOGPILED_BIN"
    echo "building dogpiled: swift build -c release --static-swift-stdlib --product dogpiled" >&2
    (cd "$REPO_ROOT" && swift build -c release --static-swift-stdlib --product dogpiled) >&2 \
      || die "swift build failed"
    [[ -x $DOGPILED_BIN ]] || die "build finished but $DOGPILED_BIN is missing"
  fi
  DP_CMD=("$DOGPILED_BIN")
  # As root, dogpiled (like memcached) refuses to start without -u.
  ((EUID == 0)) && DP_CMD+=(-u root)
  DP_DESC="$DOGPILED_BIN"
fi
declare -a DP_EXTRA=()
[[ -n $DOGPILED_ARGS ]] && read -r -a DP_EXTRA <<<"$DOGPILED_ARGS"

# ----------------------------------------------------------- servers ------
declare -A PORT PID
USED_PORTS=" "
HAVE_SS=$(command -v ss >/dev/null && echo 1 || true)

port_in_use() {  # any TCP socket on this local port, in any state
  local p=$1
  if [[ -n $HAVE_SS ]]; then
    ss -Htan 2>/dev/null | awk '{print $4}' | grep -Eq "[:.]$p\$"
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
  fi
}

pick_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    [[ $USED_PORTS == *" $p "* ]] && continue
    port_in_use "$p" && continue
    echo "$p"
    return 0
  done
  return 1
}

listening() {  # listening PID PORT: is PID itself listening on 127.0.0.1:PORT?
  local pid=$1 port=$2
  if [[ -n $HAVE_SS ]]; then
    ss -Hltnp "sport = :$port" 2>/dev/null | grep -q "pid=$pid,"
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# start_server NAME: start it on a free 127.0.0.1 port; sets PORT[NAME] and PID[NAME]
start_server() {
  local name=$1 attempt port pid i
  local -a cmd
  for ((attempt = 1; attempt <= 5; attempt++)); do
    port=$(pick_port) || die "no free loopback port found"
    if [[ $name == memcached ]]; then
      cmd=("${MC_CMD[@]}" -l 127.0.0.1 -p "$port" -m "$MEMORY_MB" -t "$THREADS")
    else
      cmd=("${DP_CMD[@]}" -l 127.0.0.1 -p "$port" -m "$MEMORY_MB" -t "$THREADS" "${DP_EXTRA[@]}")
    fi
    echo "${cmd[*]}" >>"$LOG_DIR/$name.cmd"
    # own session: a Ctrl-C reaches only this script, whose traps stop everything in order
    setsid "${PIN_SERVER[@]}" "${cmd[@]}" </dev/null >>"$LOG_DIR/$name.log" 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    for ((i = 0; i < 200; i++)); do   # up to 20 s
      kill -0 "$pid" 2>/dev/null || break
      if listening "$pid" "$port"; then
        PORT[$name]=$port PID[$name]=$pid
        USED_PORTS+="$port "
        return 0
      fi
      sleep 0.1
    done
    stop_pid "$pid"
    echo "compare.sh: $name did not come up on port $port (attempt $attempt):" \
      "$(tail -n 3 "$LOG_DIR/$name.log" | tr '\n' ' ')" >&2
  done
  die "could not start $name: ${cmd[*]} (log: $LOG_DIR/$name.log)"
}

stop_server() {
  local name=$1
  stop_pid "${PID[$name]}"
  USED_PORTS=${USED_PORTS/ ${PORT[$name]} / }
}

rss_kb() {  # VmRSS of the server in kB
  awk '/^VmRSS:/ {print $2}' "/proc/${PID[$1]}/status" 2>/dev/null || true
}

curr_items() {  # curr_items from "stats", or nothing if the server does not answer it
  local port=$1 fd line items=""
  exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 0
  printf 'stats\r\n' >&"$fd"
  while IFS= read -r -t 3 line <&"$fd"; do
    line=${line%$'\r'}
    [[ $line == "STAT curr_items "* ]] && items=${line#STAT curr_items }
    [[ $line == END || $line == ERROR* || $line == *_ERROR* ]] && break
  done
  exec {fd}>&-
  echo "$items"
}

# ------------------------------------------------------- CPU accounting ----
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
NCPU=$(nproc)
sys_ticks() {  # "busy total" over all CPUs, in clock ticks
  awk '/^cpu / {b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6}' /proc/stat
}
proc_ticks() {  # utime + stime of a process, in clock ticks (fields 14 and 15)
  awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0
}
children_ticks() {  # sets CHILD_TICKS: CPU of this shell's reaped children, in ticks
  times >"$LOG_DIR/.times"   # here, not in $(...): a subshell would report its own children
  CHILD_TICKS=$(awk -v hz="$HZ" 'NR == 2 {t = 0; for (i = 1; i <= 2; i++) {split($i, p, "m");
    sub("s", "", p[2]); t += 60 * p[1] + p[2]}; printf "%.0f", t * hz}' "$LOG_DIR/.times")
}

# ------------------------------------------------------------ client -------
# p99_bound FILE: the p99 latency of memcaslap's final "Total Statistics (N events)" block, as
# the upper bound (us) of its log2 bucket: memcaslap counts a latency t in bucket k when
# 2^(k-1) < t <= 2^k (ms_stats.c), and prints the buckets four to a line after "k:".
p99_bound() {
  awk '/^Total Statistics \(/ {total = 1; next}
       total && /Log2 Dist:/ {dist = 1; next}
       dist && NF == 0 {dist = 0; total = 0; next}
       dist {k = $1; sub(":", "", k); for (f = 2; f <= NF; f++) {c[k + f - 2] = $f; n += $f
             if (k + f - 2 > top) top = k + f - 2}}
       END {if (n == 0) exit; s = 0
            for (k = 0; k <= top; k++) {s += c[k]; if (s >= 0.99 * n) {print 2 ^ k; exit}}}' "$1"
}

# run_client NAME LOAD SECS TAG: one memcaslap run against NAME, in this shell (so the EXIT
# trap can stop it). Sets R_TPS, R_GETS, R_MISSES, R_CPU (NAME's CPU, % of one core), R_EFF
# (ops per second of NAME's CPU), R_P99 (p99 latency's log2 bucket bound, us) and
# R_OTHER (% of the machine's CPU used by anything but the two servers and memcaslap).
run_client() {
  local name=$1 load=$2 secs=$3 tag=$4 out rc n
  # -S: one statistics dump at the end, which carries the latency histogram
  local -a args=(-s "127.0.0.1:${PORT[$name]}" -F "$BENCH_DIR/$load.cnf" -t "${secs}s"
                 -S "${secs}s" -T "$CLIENT_THREADS" -c "$CONCURRENCY" -w "$WINDOW")
  local b0 a0 b1 a1 c0 c1 srv_self0 srv_self1 srv_all0=0 srv_all1=0
  out="$LOG_DIR/$tag.out"
  echo "$MEMCASLAP_BIN ${args[*]}" >"$out"
  read -r b0 a0 < <(sys_ticks)
  for n in "${!PID[@]}"; do srv_all0=$((srv_all0 + $(proc_ticks "${PID[$n]}"))); done
  srv_self0=$(proc_ticks "${PID[$name]}")
  children_ticks; c0=$CHILD_TICKS
  setsid "${PIN_CLIENT[@]}" "$MEMCASLAP_BIN" "${args[@]}" </dev/null >>"$out" 2>&1 &
  CLIENT_PID=$!
  rc=0
  wait "$CLIENT_PID" || rc=$?
  CLIENT_PID=""
  read -r b1 a1 < <(sys_ticks)
  for n in "${!PID[@]}"; do srv_all1=$((srv_all1 + $(proc_ticks "${PID[$n]}"))); done
  srv_self1=$(proc_ticks "${PID[$name]}")
  children_ticks; c1=$CHILD_TICKS
  kill -0 "${PID[$name]}" 2>/dev/null \
    || die "$name (pid ${PID[$name]}) died during $tag; see $LOG_DIR/$name.log"
  ((rc == 0)) || die "memcaslap exited $rc during $tag; see $out"
  R_TPS=$(sed -n 's/^Run time: .* TPS: \([0-9]*\).*/\1/p' "$out" | tail -n 1)
  R_GETS=$(sed -n 's/^cmd_get: \([0-9]*\).*/\1/p' "$out" | tail -n 1)
  R_MISSES=$(sed -n 's/^get_misses: \([0-9]*\).*/\1/p' "$out" | tail -n 1)
  R_GETS=${R_GETS:-0} R_MISSES=${R_MISSES:-0}
  [[ -n $R_TPS && $R_TPS -gt 0 ]] || die "no TPS from memcaslap in $tag; see $out"
  R_P99=$(p99_bound "$out")
  # server CPU over memcaslap's own run time (it idles while memcaslap starts up), and ops per
  # second of server CPU
  read -r R_CPU R_EFF < <(sed -n 's/^Run time: \([0-9.]*\)s Ops: \([0-9]*\) .*/\1 \2/p' "$out" | tail -n 1 |
    awk -v d=$((srv_self1 - srv_self0)) -v hz="$HZ" '{c = d / hz; printf "%.0f %.0f\n",
      ($1 > 0 ? 100 * c / $1 : 0), (c > 0 ? $2 / c : 0)}') || true
  R_CPU=${R_CPU:-0} R_EFF=${R_EFF:-0}
  R_OTHER=$(awk -v busy=$((b1 - b0)) -v all=$((a1 - a0)) -v mine=$((srv_all1 - srv_all0 + c1 - c0)) \
    'BEGIN {o = all > 0 ? 100 * (busy - mine) / all : 0; printf "%.0f", (o < 0 ? 0 : o)}')
}

# ------------------------------------------------------------ stats --------
median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.10g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
pct() { awk -v m="$1" -v g="$2" 'BEGIN {if (g > 0) printf "%.1f", 100 * m / g; else print "-"}'; }
mib() { if [[ -n $1 ]]; then awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; else echo "n/a"; fi; }
cpu_busy() {  # percent of the machine busy over 1 s
  local b0 a0 b1 a1
  read -r b0 a0 < <(sys_ticks); sleep 1; read -r b1 a1 < <(sys_ticks)
  awk -v b=$((b1 - b0)) -v a=$((a1 - a0)) 'BEGIN {printf "%.0f", (a > 0 ? 100 * b / a : 0)}'
}

# ------------------------------------------------------------- main --------
START_TS=$SECONDS
BUSY=$(cpu_busy)
MC_VERSION=$("$MEMCACHED_BIN" -V 2>/dev/null || echo "memcached ?")

echo "dogpiled vs memcached under memcaslap ($MEMCASLAP_BIN)"
echo "  servers:   -m $MEMORY_MB -t $THREADS on 127.0.0.1, a fresh pair for each load"
echo "  memcached: ${MC_CMD[*]}  ($MC_VERSION)"
echo "  dogpiled:  $DP_DESC ${DP_EXTRA[*]}"
echo "  client:    -c $CONCURRENCY -T $CLIENT_THREADS -w $WINDOW; ${DURATION} s runs after a ${WARMUP} s warm-up;" \
  "$ROUNDS rounds; 64-byte keys, 100-byte values"
echo "  machine:   $NCPU CPUs, ${BUSY}% busy just before the start;" \
  "servers on CPU ${PIN_SERVER[2]:-any}, memcaslap on CPU ${PIN_CLIENT[2]:-any}"
((BUSY > 15)) && echo "  warning:   the machine is not idle; the figures will be noisy"
echo

declare -A TPS GETS MISSES CPU EFF P99 SUM_P99_MC SUM_P99_DP SUM_MC SUM_DP SUM_RATIO SUM_SPREAD SUM_EFF_MC SUM_EFF_DP
declare -A RSS0_MC RSS0_DP RSS_MC RSS_DP ITEMS_MC ITEMS_DP
ROWS="" MAX_OTHER=0
RUNS_TSV=$LOG_DIR/runs.tsv MEMORY_TSV=$LOG_DIR/memory.tsv   # for --json
: >"$RUNS_TSV"; : >"$MEMORY_TSV"

for load in "${LOAD_LIST[@]}"; do
  echo "== $load: starting servers" >&2
  start_server memcached
  start_server dogpiled
  RSS0_MC[$load]=$(rss_kb memcached) RSS0_DP[$load]=$(rss_kb dogpiled)
  if ((WARMUP > 0)); then
    echo "== $load: warm-up, ${WARMUP} s each" >&2
    run_client memcached "$load" "$WARMUP" "$load-warmup-memcached"
    run_client dogpiled "$load" "$WARMUP" "$load-warmup-dogpiled"
  fi
  mc_list="" dp_list="" ratio_list="" eff_mc="" eff_dp="" p99_mc="" p99_dp=""
  for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then order=(memcached dogpiled); else order=(dogpiled memcached); fi
    other=0
    for name in "${order[@]}"; do
      echo "== $load: round $r/$ROUNDS, $name (${DURATION} s)" >&2
      run_client "$name" "$load" "$DURATION" "$load-r$r-$name"
      TPS[$name]=$R_TPS GETS[$name]=$R_GETS MISSES[$name]=$R_MISSES CPU[$name]=$R_CPU
      EFF[$name]=$R_EFF P99[$name]=$R_P99
      ((R_OTHER > other)) && other=$R_OTHER
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$load" "$r" "$name" "${order[0]}" "$R_TPS" \
        "$R_CPU" "$R_EFF" "$R_GETS" "$R_MISSES" "${R_P99:-}" "$R_OTHER" >>"$RUNS_TSV"
    done
    ((other > MAX_OTHER)) && MAX_OTHER=$other
    mc_tps=${TPS[memcached]} dp_tps=${TPS[dogpiled]}
    rt=$(ratio "$dp_tps" "$mc_tps")
    mc_list+="$mc_tps"$'\n' dp_list+="$dp_tps"$'\n' ratio_list+="$rt"$'\n'
    eff_mc+="${EFF[memcached]}"$'\n' eff_dp+="${EFF[dogpiled]}"$'\n'
    [[ -n ${P99[memcached]} ]] && p99_mc+="${P99[memcached]}"$'\n'
    [[ -n ${P99[dogpiled]} ]] && p99_dp+="${P99[dogpiled]}"$'\n'
    first=$([[ ${order[0]} == memcached ]] && echo "mc first" || echo "dp first")
    ROWS+=$(printf '%-10s %5s  %-8s  %13s %13s  %6s   %5s %5s   %5s %5s   %5s   %6s %6s' \
      "$load" "$r" "$first" "$mc_tps" "$dp_tps" "$rt" "${CPU[memcached]}" "${CPU[dogpiled]}" \
      "$(pct "${MISSES[memcached]}" "${GETS[memcached]}")" \
      "$(pct "${MISSES[dogpiled]}" "${GETS[dogpiled]}")" "$other" \
      "${P99[memcached]:--}" "${P99[dogpiled]:--}")$'\n'
  done
  RSS_MC[$load]=$(rss_kb memcached) RSS_DP[$load]=$(rss_kb dogpiled)
  ITEMS_MC[$load]=$(curr_items "${PORT[memcached]}") ITEMS_DP[$load]=$(curr_items "${PORT[dogpiled]}")
  printf '%s\tmemcached\t%s\t%s\t%s\n%s\tdogpiled\t%s\t%s\t%s\n' \
    "$load" "${RSS0_MC[$load]}" "${RSS_MC[$load]}" "${ITEMS_MC[$load]}" \
    "$load" "${RSS0_DP[$load]}" "${RSS_DP[$load]}" "${ITEMS_DP[$load]}" >>"$MEMORY_TSV"
  SUM_P99_MC[$load]=$(printf '%s' "$p99_mc" | median)
  SUM_P99_DP[$load]=$(printf '%s' "$p99_dp" | median)
  SUM_MC[$load]=$(printf '%s' "$mc_list" | median)
  SUM_DP[$load]=$(printf '%s' "$dp_list" | median)
  SUM_RATIO[$load]=$(printf '%s' "$ratio_list" | median | awk '{printf "%.3f", $1}')
  SUM_SPREAD[$load]="$(printf '%s' "$ratio_list" | sort -g | head -n 1)..$(printf '%s' "$ratio_list" | sort -g | tail -n 1)"
  SUM_EFF_MC[$load]=$(printf '%s' "$eff_mc" | median)
  SUM_EFF_DP[$load]=$(printf '%s' "$eff_dp" | median)
  stop_server memcached
  stop_server dogpiled
done

echo "Runs: TPS = memcaslap's ops/s; ratio = dogpiled/memcached in the same round; CPU% = the"
echo "server's CPU time over the run, % of one core; miss% = get misses; other% = share of the"
echo "machine's CPU used by anything but the two servers and memcaslap (noise); p99 = upper"
echo "bound (us) of the log2 bucket of memcaslap's latency histogram that holds the 99th percentile"
printf '%-10s %5s  %-8s  %13s %13s  %6s   %5s %5s   %5s %5s   %5s   %6s %6s\n' \
  load round order "memcached TPS" "dogpiled TPS" ratio "mcCPU" "dpCPU" "mc%" "dp%" "other" "mcP99" "dpP99"
printf '%s' "$ROWS"
echo
echo "Per load (medians over $ROUNDS rounds; ops/CPU-s = operations per second of server CPU)"
printf '%-10s  %13s %13s  %12s  %-13s  %12s %12s  %8s %8s\n' load "memcached TPS" "dogpiled TPS" \
  "median ratio" "ratio spread" "mc ops/CPU-s" "dp ops/CPU-s" "mc p99<=" "dp p99<="
for load in "${LOAD_LIST[@]}"; do
  printf '%-10s  %13.0f %13.0f  %12s  %-13s  %12.0f %12.0f  %8s %8s\n' "$load" "${SUM_MC[$load]}" \
    "${SUM_DP[$load]}" "${SUM_RATIO[$load]}" "${SUM_SPREAD[$load]}" \
    "${SUM_EFF_MC[$load]:-0}" "${SUM_EFF_DP[$load]:-0}" "${SUM_P99_MC[$load]:--}" "${SUM_P99_DP[$load]:--}"
done
echo
echo "Resident memory (VmRSS, MiB) after start-up -> at the end of the load; items = stats curr_items"
printf '%-10s  %16s %16s  %9s  %10s %10s\n' load memcached dogpiled "end ratio" "mc items" "dp items"
for load in "${LOAD_LIST[@]}"; do
  rr=n/a
  [[ -n ${RSS_MC[$load]} && -n ${RSS_DP[$load]} ]] && rr=$(ratio "${RSS_DP[$load]}" "${RSS_MC[$load]}")
  printf '%-10s  %16s %16s  %9s  %10s %10s\n' "$load" \
    "$(mib "${RSS0_MC[$load]}") -> $(mib "${RSS_MC[$load]}")" \
    "$(mib "${RSS0_DP[$load]}") -> $(mib "${RSS_DP[$load]}")" \
    "$rr" "${ITEMS_MC[$load]:-n/a}" "${ITEMS_DP[$load]:-n/a}"
done
echo
((MAX_OTHER > 10)) && echo "warning: other processes took up to ${MAX_OTHER}% of the CPU during a round; rerun on a quiet machine"
echo "total time: $((SECONDS - START_TS)) s"

rc=0
if [[ -n $MIN_RATIO ]]; then
  for load in "${LOAD_LIST[@]}"; do
    if awk -v r="${SUM_RATIO[$load]}" -v m="$MIN_RATIO" 'BEGIN {exit !(r < m)}'; then
      echo "below MIN_RATIO $MIN_RATIO: $load median ratio ${SUM_RATIO[$load]}" >&2
      rc=1
    fi
  done
fi
if [[ -n $JSON_OUT ]]; then
  # every measured run and each load's memory, for bench/report.py; the medians are its job
  python3 - "$RUNS_TSV" "$MEMORY_TSV" "$JSON_OUT" <<PY || die "could not write $JSON_OUT"
import json, sys
def number(text):
    return None if text == "" else (float(text) if "." in text else int(text))
runs = [dict(zip(("load", "round", "server", "first", "ops_per_sec", "server_cpu_pct", "ops_per_server_cpu_s",
                  "gets", "get_misses", "p99_us_bound", "other_cpu_pct"), line.split("\t")))
        for line in open(sys.argv[1]).read().splitlines()]
for run in runs:
    for key in run:
        if key not in ("load", "server", "first"):
            run[key] = number(run[key])
memory = [dict(zip(("load", "server", "rss_start_kb", "rss_end_kb", "curr_items"),
                   [f if i < 2 else number(f) for i, f in enumerate(line.split("\t"))]))
          for line in open(sys.argv[2]).read().splitlines()]
settings = {"memory_mb": $MEMORY_MB, "threads": $THREADS, "rounds": $ROUNDS, "duration_s": $DURATION,
            "warmup_s": $WARMUP, "concurrency": $CONCURRENCY, "client_threads": $CLIENT_THREADS,
            "window": "$WINDOW", "server_cpu": "${PIN_SERVER[2]:-}", "loadgen_cpu": "${PIN_CLIENT[2]:-}",
            "memcached": "$MC_VERSION", "max_other_cpu_pct": $MAX_OTHER}
json.dump({"tool": "memcaslap", "settings": settings, "runs": runs, "memory": memory},
          open(sys.argv[3], "w"), indent=1)
PY
  echo "json: $JSON_OUT"
fi
STATUS_OK=1
exit "$rc"
