#!/usr/bin/env bash
# bench/compare_pipelined.sh: dogpiled and memcached side by side under bench/loadgen, pipelined.
#
# Each run starts a fresh server pinned to one core (SERVER_CPU) and the load generator pinned
# to another (LOADGEN_CPU), prefills the key space, warms up, then measures. Rounds alternate
# which server goes first. Prints, per sets:gets ratio, each server's median throughput with its
# spread (min..max) and median p50/p99/p999, and the dogpiled/memcached ratios.
# A report, not a test: exits 0 when every run ran, 2 when something failed to run.
set -Eeuo pipefail

BENCH_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$BENCH_DIR/.." && pwd)

JSON_OUT=${JSON_OUT:-}
while (($#)); do
  case $1 in
    -h|--help)
      cat <<USAGE
usage: bench/compare_pipelined.sh [--json FILE]   (other settings by environment)
  ROUNDS=5  DURATION=5  WARMUP=1  CONNECTIONS=25  DEPTH=16  RATIOS="1:10 1:1 10:1"
  KEYS=100000  VALUE_SIZE=100  DISTRIBUTION=uniform  THREADS=4 (-t of both)  MEMORY_MB=64
  SERVER_CPU=1  LOADGEN_CPU=0  DOGPILED_BIN (default .build/release/dogpiled, built if missing)
  MEMCACHED_BIN=/usr/bin/memcached  LOADGEN_ARGS (extra loadgen options)  KEEP_LOGS=1
  SERVERS="dogpiled memcached" (e.g. only dogpiled for LOADGEN_ARGS="--workload lock")
  --json FILE (or JSON_OUT=FILE): also write every run as JSON
USAGE
      exit 0 ;;
    --json) (($# >= 2)) || { echo "compare_pipelined.sh: --json needs a file" >&2; exit 2; }
      JSON_OUT=$2; shift 2 ;;
    *) echo "compare_pipelined.sh: unknown argument: $1 (settings are environment variables; see --help)" >&2; exit 2 ;;
  esac
done

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-25}
DEPTH=${DEPTH:-16}
RATIOS=${RATIOS:-"1:10 1:1 10:1"}
KEYS=${KEYS:-100000}
VALUE_SIZE=${VALUE_SIZE:-100}
DISTRIBUTION=${DISTRIBUTION:-uniform}
THREADS=${THREADS:-4}
MEMORY_MB=${MEMORY_MB:-64}
SERVER_CPU=${SERVER_CPU:-1}
LOADGEN_CPU=${LOADGEN_CPU:-0}
MEMCACHED_BIN=${MEMCACHED_BIN:-/usr/bin/memcached}
DOGPILED_BIN=${DOGPILED_BIN:-$REPO_ROOT/.build/release/dogpiled}
LOADGEN_ARGS=${LOADGEN_ARGS:-}
SERVERS=${SERVERS:-"dogpiled memcached"}
LOADGEN_BIN=$BENCH_DIR/loadgen/.build/release/loadgen

die() { echo "compare_pipelined.sh: error: $*" >&2; exit 2; }

for name in $SERVERS; do
  [[ $name == dogpiled || $name == memcached ]] || die "SERVERS: dogpiled and/or memcached (got '$name')"
done
[[ -x $MEMCACHED_BIN ]] || die "memcached not found at $MEMCACHED_BIN (apt-get install memcached)"
if [[ ! -x $DOGPILED_BIN ]]; then
  echo "building dogpiled: swift build -c release --static-swift-stdlib --product dogpiled" >&2
  (cd "$REPO_ROOT" && swift build -c release --static-swift-stdlib --product dogpiled) >&2 || die "dogpiled build failed"
fi
echo "building bench/loadgen (release)" >&2
(cd "$BENCH_DIR/loadgen" && swift build -c release) >&2 || die "loadgen build failed"

PIN_SERVER=() PIN_LOADGEN=()
if command -v taskset >/dev/null && (($(nproc) > 1)); then
  PIN_SERVER=(taskset -c "$SERVER_CPU") PIN_LOADGEN=(taskset -c "$LOADGEN_CPU")
else
  echo "compare_pipelined.sh: no taskset or one CPU: running unpinned" >&2
fi
USER_ARGS=()
((EUID == 0)) && USER_ARGS=(-u root)

LOG_DIR=$(mktemp -d /tmp/compare-pipelined.XXXXXX)
RESULTS=$LOG_DIR/results.tsv
RESULT_LINES=$LOG_DIR/result-lines.tsv   # name, ratio, round and loadgen's whole RESULT line, for --json
SERVER_PID=""
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [[ -n ${KEEP_LOGS:-} ]] && echo "logs: $LOG_DIR" >&2 || rm -rf "$LOG_DIR"
}
trap cleanup EXIT

# A free loopback port, by binding port 0 (closed again before the server binds it).
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_server NAME PORT: starts it pinned, sets SERVER_PID, waits until it accepts (10 s).
start_server() {
  local name=$1 port=$2 i
  local -a cmd
  if [[ $name == memcached ]]; then
    cmd=("$MEMCACHED_BIN" "${USER_ARGS[@]}" -U 0 -l 127.0.0.1 -p "$port" -m "$MEMORY_MB" -t "$THREADS")
  else
    cmd=("$DOGPILED_BIN" "${USER_ARGS[@]}" -U 0 -l 127.0.0.1 -p "$port" -m "$MEMORY_MB" -t "$THREADS")
  fi
  "${PIN_SERVER[@]}" "${cmd[@]}" </dev/null >>"$LOG_DIR/$name.log" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 100; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$name did not start: ${cmd[*]} ($(tail -n 2 "$LOG_DIR/$name.log" | tr '\n' ' '))"
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# run_one NAME RATIO ROUND: one measured run; appends "name ratio round ops p50 p99 p999 ops/cpu-s errors".
run_one() {
  local name=$1 ratio=$2 round=$3 port line
  local -a extra=()
  [[ -n $LOADGEN_ARGS ]] && read -r -a extra <<<"$LOADGEN_ARGS"
  port=$(free_port)
  start_server "$name" "$port"
  line=$("${PIN_LOADGEN[@]}" "$LOADGEN_BIN" --port "$port" --connections "$CONNECTIONS" --depth "$DEPTH" \
    --ratio "$ratio" --keys "$KEYS" --value-size "$VALUE_SIZE" --distribution "$DISTRIBUTION" \
    --duration "$DURATION" --warmup "$WARMUP" --server-pid "$SERVER_PID" "${extra[@]}" 2>>"$LOG_DIR/loadgen.err" | tee -a "$LOG_DIR/loadgen.log" | grep '^RESULT') \
    || die "loadgen failed against $name ($(tail -n 2 "$LOG_DIR/loadgen.err" | tr '\n' ' '))"
  stop_server
  # RESULT ops_per_sec=N p50_us=X p99_us=Y p999_us=Z errors=E
  awk -v n="$name" -v r="$ratio" -v k="$round" '{
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      if (v["errors"] != 0) { print "errors=" v["errors"] > "/dev/stderr" }
      cpu = ("ops_per_server_cpu_s" in v) ? v["ops_per_server_cpu_s"] : 0
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n, r, k, v["ops_per_sec"], v["p50_us"], v["p99_us"], v["p999_us"], cpu, v["errors"]
    }' <<<"$line" >>"$RESULTS"
  printf '%s\t%s\t%s\t%s\n' "$name" "$ratio" "$round" "${line#RESULT }" >>"$RESULT_LINES"
  printf '  %-9s %-5s round %d: %s\n' "$name" "$ratio" "$round" "${line#RESULT }" >&2
}

echo "dogpiled vs memcached: $CONNECTIONS connections x $DEPTH deep, $KEYS keys $DISTRIBUTION, $VALUE_SIZE B values," \
  "$ROUNDS rounds x ${DURATION}s (+${WARMUP}s warm-up), -t $THREADS -m $MEMORY_MB," \
  "server on CPU ${PIN_SERVER[2]:-any}, loadgen on CPU ${PIN_LOADGEN[2]:-any}" >&2
for ratio in $RATIOS; do
  for ((round = 1; round <= ROUNDS; round++)); do
    read -r -a order <<<"$SERVERS"
    ((round % 2)) || mapfile -t order < <(printf "%s\n" "${order[@]}" | tac)
    for name in "${order[@]}"; do run_one "$name" "$ratio" "$round"; done
  done
done

# median and spread per server and ratio; then the ratio table
python3 - "$RESULTS" "$RATIOS" "$SERVERS" <<'PY'
import sys, statistics
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()]
ratios, servers = sys.argv[2].split(), sys.argv[3].split()
def pick(name, ratio, column):
    return [float(r[column]) for r in rows if r[0] == name and r[1] == ratio]
print(f"{'sets:gets':<10}{'server':<10}{'ops/s median':>13}{'spread min..max':>20}{'p50 us':>9}{'p99 us':>9}{'p999 us':>9}"
      f"{'ops/server-CPU-s':>18}{'spread min..max':>20}")
table = []
for ratio in ratios:
    medians = {}
    for name in servers:
        ops, per_cpu = pick(name, ratio, 3), pick(name, ratio, 7)
        p50, p99, p999 = (statistics.median(pick(name, ratio, c)) for c in (4, 5, 6))
        medians[name] = (statistics.median(ops), p99, statistics.median(per_cpu))
        print(f"{ratio:<10}{name:<10}{int(statistics.median(ops)):>13}{f'{int(min(ops))}..{int(max(ops))}':>20}"
              f"{p50:>9.0f}{p99:>9.0f}{p999:>9.0f}{int(statistics.median(per_cpu)):>18}{f'{int(min(per_cpu))}..{int(max(per_cpu))}':>20}")
    if len(medians) == 2:
        d, m = medians["dogpiled"], medians["memcached"]
        table.append((ratio, d[0] / m[0], d[1] / m[1], d[2] / m[2] if m[2] else float("nan")))
if not table:
    sys.exit(0)
print()
print("dogpiled/memcached (medians; > 1: dogpiled more throughput, or higher p99)")
print(f"{'sets:gets':<10}{'ops/s':>10}{'ops/server-CPU-s':>20}{'p99':>10}")
for ratio, throughput, p99, per_cpu in table:
    print(f"{ratio:<10}{throughput:>10.2f}{per_cpu:>20.2f}{p99:>10.2f}")
PY

if [[ -n $JSON_OUT ]]; then
  # every measured run, for bench/report.py (it computes the medians and per-round ratios)
  # every RESULT key=value of loadgen (ops_per_sec, p50_us, p99_us, p999_us, errors; gets and hits
  # for kv; lockgens, gen, value, busy, setgens, not_owner for lock; ops_per_server_cpu_s)
  python3 - "$RESULT_LINES" "$JSON_OUT" <<PY || die "could not write $JSON_OUT"
import json, sys
runs = []
for line in open(sys.argv[1]).read().splitlines():
    server, ratio, round_index, result = line.split("\t")
    run = {"server": server, "ratio": ratio, "round": int(round_index)}
    for pair in result.split():
        key, value = pair.split("=", 1)
        run[key] = float(value) if "." in value else int(value)
    runs.append(run)
settings = {"rounds": $ROUNDS, "duration_s": $DURATION, "warmup_s": $WARMUP, "connections": $CONNECTIONS,
            "depth": $DEPTH, "keys": $KEYS, "value_size": $VALUE_SIZE, "distribution": "$DISTRIBUTION",
            "threads": $THREADS, "memory_mb": $MEMORY_MB, "server_cpu": "${PIN_SERVER[2]:-}",
            "loadgen_cpu": "${PIN_LOADGEN[2]:-}", "loadgen_args": "$LOADGEN_ARGS"}
json.dump({"tool": "loadgen", "settings": settings, "runs": runs}, open(sys.argv[2], "w"), indent=1)
PY
  echo "json: $JSON_OUT"
fi
