#!/usr/bin/env bash
# Tollgate benchmark: Tollgate against a plain nginx reverse proxy, both in front of the same static
# nginx mock of an OpenAI endpoint, plus the mock hit directly as the floor. Everything runs on
# 127.0.0.1 on free ports, in one go, and every process this script starts is stopped by PID on exit.
#
# Usage: bench/run.sh [--skip-build]        (or: make bench)
#
# For every target it runs wrk (-t1 -c1 and -t2 -c32, with a warm-up first) and reports requests/s,
# exact p50/p99 latency, CPU ms per request and RSS of the proxy process, then the ratios that the
# performance floors are stated in. The table is printed and written to bench/out/latest.md.
#
# Environment:
#   BENCH_C1_SECONDS (10), BENCH_C32_SECONDS (15)  length of each timed run
#   BENCH_WARMUP_SECONDS (2)       untimed wrk run before each timed run, at the same concurrency; 0 = none
#   BENCH_READY_TIMEOUT (30)       seconds a server may take to answer its readiness probe
#   TOLLGATE_BIN                   binary to run (default .build/release/tollgate); setting it skips the build
#   TOLLGATE_*                     passed through to every Tollgate process (e.g. TOLLGATE_FLUSH_MS=500);
#                                  LISTEN, DB and OPENAI_BASE_URL are always set by this script
#   BENCH_TOLLGATE_VARIANTS        extra Tollgate targets, ';'-separated "name VAR=value ...",
#                                  e.g. "tollgate-cache TOLLGATE_CACHE=on; tollgate-slowflush TOLLGATE_FLUSH_MS=1000"
#   BENCH_FAKE_TOLLGATE=1          put a second nginx proxy in the "tollgate" slot (tests this script
#                                  without a Tollgate binary; the report is marked FAKE)
#   BENCH_UNMETERED_BIN            a forwarding-only Tollgate binary (e.g. built from commit a13fa56) run
#                                  as target tollgate-unmetered, for the metering-cost ratio
#   BENCH_KEYED (1)                also run target tollgate-keyed: clients use a tg_ key with a budget and
#                                  rate limits (never refusing), for the key + budget cost ratio; 0 = skip
#   BENCH_CACHE (1)                also run tollgate-cache-hit (cache on, the same body every time) and
#                                  tollgate-cache-miss (cache on, a unique body per request); 0 = skip
#   BENCH_STRICT=1                 exit 1 when a Tollgate target misses a floor or any request failed
#   BENCH_OUT_DIR (bench/out)      where latest.md, a dated copy and raw wrk output go
#   BENCH_KEEP_TMP=1               keep the run's temp dir (configs, logs, SQLite database)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
cd "$REPO_DIR"

# ---------------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------------
C1_SECONDS=${BENCH_C1_SECONDS:-10}
C32_SECONDS=${BENCH_C32_SECONDS:-15}
WARMUP_SECONDS=${BENCH_WARMUP_SECONDS:-2}
READY_TIMEOUT=${BENCH_READY_TIMEOUT:-30}
FAKE_TOLLGATE=${BENCH_FAKE_TOLLGATE:-0}
STRICT=${BENCH_STRICT:-0}
OUT_DIR=${BENCH_OUT_DIR:-$BENCH_DIR/out}
DEFAULT_TOLLGATE_BIN=.build/release/tollgate
BIN=${TOLLGATE_BIN:-$DEFAULT_TOLLGATE_BIN}

# The floors this step must meet (stated beside the ratios in the report).
FLOOR_RPS_RATIO=0.25      # Tollgate RPS / nginx-proxy RPS at c32, at least
FLOOR_ADDED_P50_MS=0.3    # Tollgate p50 - direct p50 at c1, at most

# The request every target gets; post.lua reads it from the environment so the sanity check and the
# load send identical bytes.
export BENCH_REQUEST_BODY='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}]}'

# The runs: label, wrk threads, connections, seconds.
RUNS=("c1 1 1 $C1_SECONDS" "c32 2 32 $C32_SECONDS")

SKIP_BUILD=0
for arg in "$@"; do
  case $arg in
    --skip-build) SKIP_BUILD=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
for v in C1_SECONDS C32_SECONDS WARMUP_SECONDS READY_TIMEOUT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: $v must be a whole number of seconds, got '${!v}'" >&2; exit 2; }
done
((C1_SECONDS > 0 && C32_SECONDS > 0)) || { echo "run.sh: run lengths must be at least 1 s" >&2; exit 2; }

# ---------------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------------
log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }
calc() { awk "BEGIN { printf $1 }"; }   # calc '"%.3f", 1/3' -- bash has no floating point

# True while PID runs. `kill -0` alone also succeeds for a zombie (our children stay zombies until we
# `wait` for them), so look at the process state too.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

children_of() { pgrep -P "$1" || true; }

# A free loopback port, below the kernel's ephemeral range (usually 32768+) so that wrk's and the
# proxies' own outgoing connections can never take it. A refused connect means nobody listens there.
# Sets FREE_PORT (not echoed: the record of ports already handed out must survive, and a $(...)
# subshell would lose it).
declare -A HANDED_OUT_PORTS
FREE_PORT=""
free_port() {
  local port tries
  for ((tries = 0; tries < 200; tries++)); do
    port=$((20000 + RANDOM % 12000))
    [[ -z ${HANDED_OUT_PORTS[$port]:-} ]] || continue
    if ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      HANDED_OUT_PORTS[$port]=1
      FREE_PORT=$port
      return 0
    fi
  done
  die "no free port found on 127.0.0.1"
}

# ---------------------------------------------------------------------------------------------------
# Process lifecycle: everything started is recorded and stopped by PID when the script exits, however
# it exits (success, error, Ctrl-C).
# ---------------------------------------------------------------------------------------------------
STARTED_PIDS=()
WORK=""
# The script's own stdout/stderr, saved: a trap can fire while a redirected command runs (e.g. wrk's
# output going to a file), and cleanup's messages must still reach the terminal.
exec 8>&1 9>&2

stop_pid() {
  local pid=$1 kids i
  if alive "$pid"; then
    kids=$(children_of "$pid")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      log "PID $pid still running 10 s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      # A SIGKILLed nginx master leaves its workers behind; stop the ones we saw.
      for i in $kids; do kill -KILL "$i" 2>/dev/null || true; done
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? i
  set +e
  trap - EXIT INT TERM
  exec 1>&8 2>&9
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED_PIDS[i]}"; done
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ $rc -ne 0 ]]; then
      # Keep the logs of a failed run where they can be read; the rest (databases) goes.
      mkdir -p "$OUT_DIR/logs" && cp "$WORK"/*.log "$OUT_DIR/logs/" 2>/dev/null \
        && log "logs of the failed run copied to $OUT_DIR/logs/"
    fi
    if [[ ${BENCH_KEEP_TMP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Wait (bounded) until URL answers HTTP WANT; fail early, with the process's logs, if it died.
wait_http() {  # label url want pid logfile...
  local label=$1 url=$2 want=$3 pid=$4 code=000 deadline=$((SECONDS + READY_TIMEOUT))
  shift 4
  while ((SECONDS <= deadline)); do
    alive "$pid" || die "$label exited during start-up:
$(tail -n 20 "$@" 2> /dev/null)"
    code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$url" || true)
    [[ $code == "$want" ]] && return 0
    sleep 0.1
  done
  die "$label did not answer $url with $want within ${READY_TIMEOUT}s (last: $code):
$(tail -n 20 "$@" 2> /dev/null)"
}

# ---------------------------------------------------------------------------------------------------
# Targets: a name, the URL wrk hits, the PIDs whose CPU and memory are measured, and a label for the
# table. Adding a target is one call.
# ---------------------------------------------------------------------------------------------------
TARGETS=()
TOLLGATE_NAMES=()   # the real Tollgate processes (for the database-size note)
declare -A TARGET_URL TARGET_PIDS TARGET_LABEL TARGET_AUTH TARGET_UNIQUE
add_target() {  # name url "pid ..." [label] [bearer token, default the passthrough key sk-bench]
  TARGETS+=("$1")
  TARGET_URL[$1]=$2
  TARGET_PIDS[$1]=$3
  TARGET_LABEL[$1]=${4:-$1}
  TARGET_AUTH[$1]=${5:-sk-bench}
  TARGET_UNIQUE[$1]=${START_UNIQUE:-0}
}

render() {  # template output name port [upstream_port]
  sed -e "s#__DIR__#$WORK#g" -e "s#__NAME__#$3#g" -e "s#__PORT__#$4#g" \
      -e "s#__UPSTREAM_PORT__#${5:-none}#g" "$1" > "$2"
}

# start_nginx NAME TEMPLATE [UPSTREAM_PORT]: one nginx (master + 1 worker) in the foreground of a
# background job. Sets NGINX_PORT, NGINX_PID (the master) and NGINX_WORKERS (what gets measured:
# the worker does all the work, the master only supervises).
start_nginx() {
  local name=$1 template=$2 upstream=${3:-} conf="$WORK/$1.conf" logfile="$WORK/$1.log"
  local probe
  free_port
  NGINX_PORT=$FREE_PORT
  render "$template" "$conf" "$name" "$NGINX_PORT" "$upstream"
  nginx -t -q -p "$WORK" -c "$conf" > "$logfile" 2>&1 || die "nginx config $conf is invalid: $(cat "$logfile")"
  nginx -p "$WORK" -c "$conf" >> "$logfile" 2>&1 8>&- 9>&- &
  NGINX_PID=$!
  STARTED_PIDS+=("$NGINX_PID")
  if [[ -n $upstream ]]; then probe=/openai/v1/chat/completions; else probe=/v1/chat/completions; fi
  wait_http "nginx $name" "http://127.0.0.1:$NGINX_PORT$probe" 200 "$NGINX_PID" "$logfile" "$WORK/$name-error.log"
  NGINX_WORKERS=$(children_of "$NGINX_PID" | xargs)
  [[ -n $NGINX_WORKERS ]] || die "nginx $name has no worker process"
}

# start_tollgate NAME [VAR=value ...]: one Tollgate in front of the mock, with its own port, database
# and log, registered as a target. Extra VAR=value pairs override the inherited environment, so a
# metering variant is one line: start_tollgate tollgate-cache TOLLGATE_CACHE=on
start_tollgate() {
  local name=$1 port pid a
  shift
  for a in "$@"; do [[ $a == TOLLGATE_*=* ]] || die "start_tollgate $name: '$a' is not TOLLGATE_VAR=value"; done
  free_port
  port=$FREE_PORT
  env TOLLGATE_LISTEN="127.0.0.1:$port" \
      TOLLGATE_DB="$WORK/$name.db" \
      TOLLGATE_OPENAI_BASE_URL="http://127.0.0.1:$MOCK_PORT" \
      TOLLGATE_LOG_LEVEL="${TOLLGATE_LOG_LEVEL:-warning}" \
      "$@" "${START_BIN:-$BIN}" serve > "$WORK/$name.log" 2>&1 8>&- 9>&- &
  pid=$!
  STARTED_PIDS+=("$pid")
  wait_http "Tollgate $name" "http://127.0.0.1:$port/healthz" 200 "$pid" "$WORK/$name.log"
  TOLLGATE_NAMES+=("$name")
  add_target "$name" "http://127.0.0.1:$port/openai/v1/chat/completions" "$pid" \
    "${START_LABEL:-$name${*:+ ($*)}}" "${START_AUTH:-sk-bench}"
}

# start_keyed_tollgate NAME: a Tollgate whose clients use a Tollgate key (tg_…) with a budget and
# rate limits set high enough never to refuse, so every request pays for key lookup, credential
# swap, rate limiting and budget reservation and settlement. Created with the CLI on its database.
start_keyed_tollgate() {
  local name=$1 db="$WORK/$1.db" created key_id secret
  "$BIN" orgs create bench --db "$db" > /dev/null 2>&1 || die "tollgate orgs create failed"
  created=$("$BIN" keys create --org bench --name bench --rpm 1000000000 --tpm 1000000000 --format json --db "$db" 2> /dev/null) \
    || die "tollgate keys create failed"
  key_id=$(grep -o '"id":"key_[A-Za-z0-9]*"' <<< "$created" | cut -d'"' -f4)
  secret=$(grep -o '"key":"tg_[A-Za-z0-9]*"' <<< "$created" | cut -d'"' -f4)
  [[ -n $key_id && -n $secret ]] || die "could not read the key created for $name: $created"
  "$BIN" budgets set --scope key --scope-id "$key_id" --limit-usd 1000000 --period month --db "$db" > /dev/null 2>&1 \
    || die "tollgate budgets set failed"
  START_LABEL="$name (tg_ key + budget + rate limits)" START_AUTH=$secret \
    start_tollgate "$name" TOLLGATE_OPENAI_API_KEY=sk-bench
}

# One POST before any load: the target must return the mock's completion unchanged. Catches a wrong
# route or base URL before it turns into a table full of errors.
check_target() {
  local name=$1 body="$WORK/$1.check" code
  code=$(curl -sS -m 5 -o "$body" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -H "Authorization: Bearer ${TARGET_AUTH[$name]}" \
    --data "$BENCH_REQUEST_BODY" "${TARGET_URL[$name]}" 2>&1) || true
  if [[ $code != 200 ]] || ! grep -q '"completion_tokens":9' "$body"; then
    die "$name: sanity POST to ${TARGET_URL[$name]} gave '$code': $(head -c 400 "$body" 2> /dev/null)"
  fi
  # Proxies must hand the body back byte for byte (the contract says so); say so if one does not.
  if [[ $name != direct ]] && ! cmp -s "$body" "$WORK/direct.check"; then
    log "WARNING: $name returned a body different from the mock's (see $body)"
  fi
}

# ---------------------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------------------
TICKS_PER_SECOND=$(getconf CLK_TCK)

# utime + stime (clock ticks) summed over PIDs; for a multi-threaded process (Tollgate) /proc/PID/stat
# already covers all its threads.
cpu_ticks() {
  local pid stat fields total=0
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || die "PID $pid is gone (did the target crash?)"
    read -r -a fields <<< "${stat##*) }"   # fields[0] is field 3 (state): utime = [11], stime = [12]
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# kB of VmRSS and VmHWM (peak) summed over PIDs.
mem_kb() {
  local key=$1 pid total=0 kb
  shift
  for pid in "$@"; do
    kb=$(awk -v k="$key:" '$1 == k { print $2 }' "/proc/$pid/status" 2>/dev/null)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# wrk, bounded: its own -d plus a hard kill if it ever hangs.
run_wrk() {  # threads conns seconds url (BENCH_AUTH: the bearer token post.lua sends)
  timeout --kill-after=5 $(($3 + 30)) \
    wrk -t"$1" -c"$2" -d"$3s" --timeout 5s --latency -s "$BENCH_DIR/post.lua" "$4"
}

field() {  # field KEY "k=v k=v ..." -> v, or nothing
  if [[ " $2 " =~ \ $1=([^ ]+)\  ]]; then echo "${BASH_REMATCH[1]}"; fi
}

# Fallback when the Lua done() line is missing (e.g. another wrk build): rebuild the same fields from
# wrk's human-readable output (its latency table is rounded to 2 decimals).
parse_wrk_text() {
  awk '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /m$/) return v * 60e6; return v * 1e6 }
    /^ +50%/ { p50 = us($2) }  /^ +90%/ { p90 = us($2) }  /^ +99%/ { p99 = us($2) }
    / requests in / { req = $1; d = $4; sub(/,$/, "", d); dur = us(d) }
    /Socket errors:/ { gsub(/,/, ""); errs += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { errs += $NF }
    END { if (dur > 0) printf "BENCH_RESULT requests=%d duration_us=%d rps=%.2f p50_us=%.1f p90_us=%.1f p99_us=%.1f errors=%d\n", req, dur, req / (dur / 1e6), p50, p90, p99, errs }
  ' "$1"
}

declare -A R_RPS R_P50 R_P99 R_CPU R_RSS R_HWM R_ERR
ROWS=()        # "name label" keys in run order
ANY_ERRORS=0

measure() {  # name label threads conns seconds
  local name=$1 label=$2 threads=$3 conns=$4 secs=$5 key="$1 $2"
  local url=${TARGET_URL[$1]} raw="$OUT_DIR/raw/wrk-$1-$2.txt" cpu0 cpu1 line requests errors
  local -a pids
  read -r -a pids <<< "${TARGET_PIDS[$name]}"
  if ((WARMUP_SECONDS > 0)); then
    BENCH_AUTH=${TARGET_AUTH[$name]} BENCH_UNIQUE=${TARGET_UNIQUE[$name]} \
      run_wrk "$threads" "$conns" "$WARMUP_SECONDS" "$url" > "$WORK/warmup.txt" 2>&1 \
      || die "warm-up of $name $label failed: $(tail -n 5 "$WORK/warmup.txt")"
  fi
  log "$name $label: wrk -t$threads -c$conns -d${secs}s"
  cpu0=$(cpu_ticks "${pids[@]}")
  BENCH_AUTH=${TARGET_AUTH[$name]} BENCH_UNIQUE=${TARGET_UNIQUE[$name]} \
    run_wrk "$threads" "$conns" "$secs" "$url" > "$raw" 2>&1 || die "wrk failed for $name $label: $(tail -n 5 "$raw")"
  cpu1=$(cpu_ticks "${pids[@]}")

  line=$(grep '^BENCH_RESULT ' "$raw" || true)
  [[ -n $line ]] || line=$(parse_wrk_text "$raw")
  [[ -n $line ]] || die "could not read wrk's results in $raw"
  requests=$(field requests "$line")
  ((${requests:-0} > 0)) || die "$name $label completed no requests; see $raw"

  R_RPS[$key]=$(field rps "$line")
  R_P50[$key]=$(calc "\"%.3f\", $(field p50_us "$line") / 1000")
  R_P99[$key]=$(calc "\"%.3f\", $(field p99_us "$line") / 1000")
  R_CPU[$key]=$(calc "\"%.4f\", ($cpu1 - $cpu0) * 1000 / $TICKS_PER_SECOND / $requests")
  R_RSS[$key]=$(calc "\"%.1f\", $(mem_kb VmRSS "${pids[@]}") / 1024")
  R_HWM[$key]=$(calc "\"%.1f\", $(mem_kb VmHWM "${pids[@]}") / 1024")
  errors=$(field errors "$line")
  R_ERR[$key]=${errors:-?}
  [[ $errors == 0 ]] || { ANY_ERRORS=1; log "WARNING: $name $label had ${R_ERR[$key]} failed requests (see $raw)"; }
  ROWS+=("$key")
  log "  → $(printf '%.0f' "${R_RPS[$key]}") req/s, p50 ${R_P50[$key]} ms, p99 ${R_P99[$key]} ms, ${R_CPU[$key]} CPU ms/req"
}

# ---------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------
FLOOR_FAILED=0

# Sets VERDICT (a global, not echoed, so FLOOR_FAILED survives).
verdict() { if [[ $1 == 1 ]]; then VERDICT=PASS; else VERDICT="**FAIL**"; FLOOR_FAILED=1; fi; }

# The TOLLGATE_* settings this run inherited, with anything secret-looking masked.
tollgate_env_summary() {
  env | grep -E '^TOLLGATE_' | grep -vE '^TOLLGATE_(BIN|LOG_LEVEL)=' | sort \
    | sed -E 's/^([A-Z_]*(KEY|SECRET|TOKEN)[A-Z_]*)=.*/\1=***/; s/^/, /' | tr -d '\n' || true
}

report() {
  local key name t ratio added
  echo "# Tollgate benchmark"
  echo
  if [[ $FAKE_TOLLGATE == 1 ]]; then
    echo "> **FAKE RUN** (BENCH_FAKE_TOLLGATE=1): the \"tollgate\" row is a second nginx proxy, not Tollgate."
    echo
  fi
  echo "- when: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit $(git rev-parse --short HEAD 2> /dev/null || echo '?')$([[ -z $(git status --porcelain -- Sources Package.swift 2> /dev/null) ]] || echo ' + uncommitted changes in Sources')"
  echo "- host: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores, Linux $(uname -r); load before run: $LOAD_BEFORE"
  echo "- tools: $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -n 1 | awk '{ print $1, $2 }')"
  echo "- setup: wrk, the mock, the proxies all on 127.0.0.1 sharing the same cores; mock = nginx \`return 200\` of a fixed chat completion;"
  echo "  every nginx runs 1 worker, access log off, keep-alive on; nginx-proxy: upstream keep-alive pool, HTTP/1.1, unbuffered;"
  [[ $FAKE_TOLLGATE == 1 ]] || echo "  Tollgate: passthrough key \`sk-bench\`, log level ${TOLLGATE_LOG_LEVEL:-warning}, SQLite on $(df -P "$WORK" | awk 'NR == 2 { print $1 }')$(tollgate_env_summary)"
  echo "- load: POST /openai/v1/chat/completions (direct: /v1/chat/completions), ${#BENCH_REQUEST_BODY}-byte body; c1 = wrk -t1 -c1 ${C1_SECONDS}s, c32 = wrk -t2 -c32 ${C32_SECONDS}s, each after a ${WARMUP_SECONDS}s warm-up"
  echo "- CPU ms/req = (utime+stime of the target over the timed run) / requests; RSS = VmRSS after the run, peak = VmHWM."
  echo "  nginx rows count their worker process (the idle master is left out); the direct row measures the mock itself."
  echo
  echo "| target | conc | RPS | p50 ms | p99 ms | CPU ms/req | RSS MB | peak RSS MB | errors |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for key in "${ROWS[@]}"; do
    name=${key% *}
    printf '| %s | %s | %.0f | %s | %s | %s | %s | %s | %s |\n' "${TARGET_LABEL[$name]}" "${key#* }" \
      "${R_RPS[$key]}" "${R_P50[$key]}" "${R_P99[$key]}" "${R_CPU[$key]}" "${R_RSS[$key]}" "${R_HWM[$key]}" "${R_ERR[$key]}"
  done
  for name in "${SKIPPED[@]}"; do echo "| $name | – | skipped: ${SKIP_REASON[$name]} | | | | | | |"; done
  echo
  echo "Ratios (floors from the plan beside them):"
  echo
  for t in "${TARGETS[@]}"; do
    [[ $t == tollgate* ]] || continue
    # Judge the unrounded ratio: 0.2479 must not pass as "0.25".
    ratio=$(calc "\"%.3f\", ${R_RPS[$t c32]} / ${R_RPS[nginx-proxy c32]}")
    verdict "$(calc "\"%d\", (${R_RPS[$t c32]} / ${R_RPS[nginx-proxy c32]} >= $FLOOR_RPS_RATIO)")"
    echo "- ${TARGET_LABEL[$t]} RPS / nginx-proxy RPS at c32: **${ratio}×** (floor ≥ ${FLOOR_RPS_RATIO}×) — $VERDICT"
  done
  for name in "${SKIPPED[@]}"; do echo "- $name: skipped (${SKIP_REASON[$name]}), no ratios"; done
  if [[ -n ${R_RPS[tollgate-unmetered c32]:-} ]]; then
    ratio=$(calc "\"%.3f\", ${R_RPS[tollgate c32]} / ${R_RPS[tollgate-unmetered c32]}")
    verdict "$(calc "\"%d\", (${R_RPS[tollgate c32]} / ${R_RPS[tollgate-unmetered c32]} >= 0.9)")"
    echo "- tollgate (metering on) RPS / tollgate-unmetered RPS at c32: **${ratio}×** (floor ≥ 0.9×) — $VERDICT"
  fi
  if [[ -n ${R_RPS[tollgate-cache-hit c32]:-} && -n ${R_RPS[tollgate-cache-miss c32]:-} ]]; then
    ratio=$(calc "\"%.3f\", ${R_RPS[tollgate-cache-hit c32]} / ${R_RPS[tollgate-cache-miss c32]}")
    verdict "$(calc "\"%d\", (${R_RPS[tollgate-cache-hit c32]} / ${R_RPS[tollgate-cache-miss c32]} >= 2)")"
    echo "- tollgate-cache-hit RPS / tollgate-cache-miss RPS at c32: **${ratio}×** (floor ≥ 2×) — $VERDICT"
    added=$(calc "\"%.3f\", ${R_P50[tollgate-cache-hit c1]} - ${R_P50[direct c1]}")
    verdict "$(calc "\"%d\", ($added <= 0.15)")"
    echo "- tollgate-cache-hit added p50 at c1: **${added} ms** (floor ≤ 0.15 ms) — $VERDICT"
  fi
  if [[ -n ${R_RPS[tollgate-keyed c32]:-} ]]; then
    ratio=$(calc "\"%.3f\", ${R_RPS[tollgate-keyed c32]} / ${R_RPS[tollgate c32]}")
    verdict "$(calc "\"%d\", (${R_RPS[tollgate-keyed c32]} / ${R_RPS[tollgate c32]} >= 0.9)")"
    echo "- tollgate-keyed (tg_ key + budget) RPS / tollgate (passthrough) RPS at c32: **${ratio}×** (floor ≥ 0.9×) — $VERDICT"
  fi
  for t in "${TARGETS[@]}"; do
    [[ $t == direct ]] && continue
    added=$(calc "\"%.3f\", ${R_P50[$t c1]} - ${R_P50[direct c1]}")
    if [[ $t == tollgate* ]]; then
      verdict "$(calc "\"%d\", ($added <= $FLOOR_ADDED_P50_MS)")"
      echo "- ${TARGET_LABEL[$t]} added p50 at c1 (p50 − direct p50): **${added} ms** (floor ≤ ${FLOOR_ADDED_P50_MS} ms) — $VERDICT"
    else
      echo "- ${TARGET_LABEL[$t]} added p50 at c1 (p50 − direct p50): **${added} ms** (reference)"
    fi
  done
  if [[ $ANY_ERRORS == 1 ]]; then
    echo
    echo "**Some requests failed** (errors column; wrk counts connect/read/write/timeout errors and HTTP ≥ 400); raw output in ${OUT_DIR#"$REPO_DIR"/}/raw/."
  fi
  if ((${#TOLLGATE_NAMES[@]} > 0)); then
    echo
    for name in "${TOLLGATE_NAMES[@]}"; do
      if [[ -e $WORK/$name.db ]]; then
        echo "- $name SQLite database after the run (with -wal/-shm): $(du -ch "$WORK/$name".db* | awk 'END { print $1 }')"
      else
        echo "- $name created no database file at TOLLGATE_DB (nothing metered?)"
      fi
    done
  fi
}

# ---------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------
ensure_tools() {
  local missing=() sudo=""
  command -v nginx > /dev/null || missing+=(nginx-light)
  command -v wrk > /dev/null || missing+=(wrk)
  command -v curl > /dev/null || missing+=(curl)
  command -v pgrep > /dev/null || missing+=(procps)
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) == 0 ]] || sudo=sudo
  log "installing ${missing[*]}"
  $sudo apt-get install -y -qq "${missing[@]}" > /dev/null \
    || { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" > /dev/null; } \
    || die "could not install ${missing[*]}"
}

ensure_tools
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  log "WARNING: load average is $LOAD_BEFORE on $(nproc) cores; something else is running and the numbers will be noisy"
fi

declare -A SKIP_REASON
SKIPPED=()
if [[ $FAKE_TOLLGATE == 1 ]]; then
  log "BENCH_FAKE_TOLLGATE=1: a second nginx proxy stands in for Tollgate; not building"
elif [[ $SKIP_BUILD == 1 ]]; then
  log "--skip-build: using $BIN as it is"
elif [[ -n ${TOLLGATE_BIN:-} ]]; then
  log "TOLLGATE_BIN is set: using $BIN, not building"
else
  log "building release (swift build -c release)…"
  swift build -c release >&2 || die "release build failed"
fi

mkdir -p "$OUT_DIR/raw"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench.XXXXXX")

# The mock provider, then the proxies in front of it.
start_nginx mock "$BENCH_DIR/nginx-upstream.conf"
MOCK_PORT=$NGINX_PORT
add_target direct "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" "$NGINX_WORKERS" "direct (mock)"

start_nginx nginx-proxy "$BENCH_DIR/nginx-proxy.conf" "$MOCK_PORT"
add_target nginx-proxy "http://127.0.0.1:$NGINX_PORT/openai/v1/chat/completions" "$NGINX_WORKERS"

if [[ $FAKE_TOLLGATE == 1 ]]; then
  start_nginx fake-tollgate "$BENCH_DIR/nginx-proxy.conf" "$MOCK_PORT"
  add_target tollgate "http://127.0.0.1:$NGINX_PORT/openai/v1/chat/completions" "$NGINX_WORKERS" "tollgate (FAKE: nginx)"
elif [[ ! -x $BIN ]]; then
  log "SKIPPING Tollgate: no executable at $BIN (build it with 'swift build -c release', or run without --skip-build, or set TOLLGATE_BIN)"
  SKIPPED+=(tollgate)
  SKIP_REASON[tollgate]="no binary at $BIN"
else
  start_tollgate tollgate
  # Tollgate keys with a budget: must stay within 0.9× of passthrough (issue 4).
  [[ ${BENCH_KEYED:-1} == 1 ]] && start_keyed_tollgate tollgate-keyed
  # The response cache: every request a hit (the same body) and every request a miss (unique
  # bodies), both with the cache on; hits must reach ≥ 2× the misses' RPS (issue 5).
  if [[ ${BENCH_CACHE:-1} == 1 ]]; then
    START_LABEL="tollgate-cache-hit (TOLLGATE_CACHE=on, same body)" start_tollgate tollgate-cache-hit TOLLGATE_CACHE=on
    START_LABEL="tollgate-cache-miss (TOLLGATE_CACHE=on, unique bodies)" START_UNIQUE=1 \
      start_tollgate tollgate-cache-miss TOLLGATE_CACHE=on
  fi
  # The forwarding-only baseline (a binary built from before metering) for the metering-cost ratio.
  if [[ -n ${BENCH_UNMETERED_BIN:-} ]]; then START_BIN=$BENCH_UNMETERED_BIN start_tollgate tollgate-unmetered; fi
  # More Tollgate targets, e.g. metering variants, from BENCH_TOLLGATE_VARIANTS (one per ';').
  IFS=';' read -r -a variants <<< "${BENCH_TOLLGATE_VARIANTS:-}"
  for variant in "${variants[@]}"; do
    read -r -a words <<< "$variant"
    ((${#words[@]} > 0)) || continue
    [[ ${words[0]} == tollgate* ]] || die "variant name '${words[0]}' must start with 'tollgate' (the report finds them by that)"
    start_tollgate "${words[@]}"
  done
fi
log "up: $(for t in "${TARGETS[@]}"; do printf '%s=%s ' "$t" "${TARGET_URL[$t]}"; done)"

for t in "${TARGETS[@]}"; do check_target "$t"; done
for t in "${TARGETS[@]}"; do
  for run in "${RUNS[@]}"; do
    read -r label threads conns secs <<< "$run"
    measure "$t" "$label" "$threads" "$conns" "$secs"
  done
done

report_file="$OUT_DIR/latest.md"
report > "$report_file.tmp"
mv "$report_file.tmp" "$report_file"
cp "$report_file" "$OUT_DIR/run-$(date -u +%Y%m%dT%H%M%SZ).md"
cat "$report_file"
log "written to ${report_file#"$REPO_DIR"/}"

if [[ $STRICT == 1 ]] && { [[ $FLOOR_FAILED == 1 ]] || [[ $ANY_ERRORS == 1 ]] || ((${#SKIPPED[@]} > 0)); }; then
  die "BENCH_STRICT=1: a floor was missed, a request failed or a target was skipped"
fi
