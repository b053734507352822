#!/usr/bin/env bash
# Benchmark: Tollgate against a plain nginx reverse proxy, both in front of the same static nginx
# "LLM" upstream, all on loopback in one run. Prints RPS, p50/p99, CPU ms per request and RSS for
# each target, and the ratios the issues set floors for. Usage: bench/run.sh [--skip-build]
# Env: BENCH_C1_SECONDS (10), BENCH_C32_SECONDS (15), TOLLGATE_BIN (.build/release/tollgate).
set -euo pipefail
cd "$(dirname "$0")/.."

C1_SECONDS=${BENCH_C1_SECONDS:-10}
C32_SECONDS=${BENCH_C32_SECONDS:-15}
BIN=${TOLLGATE_BIN:-.build/release/tollgate}
DIR=$(mktemp -d /tmp/tollgate-bench.XXXXXX)
PIDS=()

cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "installing $2"; apt-get install -y -qq "$2" >/dev/null; }; }
need nginx nginx-light
need wrk wrk

if [ "${1:-}" != "--skip-build" ]; then swift build -c release 2>&1 | tail -1; fi
[ -x "$BIN" ] || { echo "no Tollgate binary at $BIN (build with: swift build -c release)"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
UPSTREAM_PORT=$(free_port); PROXY_PORT=$(free_port); TG_PORT=$(free_port); TG_METER_PORT=$(free_port)

render() { sed -e "s#__DIR__#$DIR#g" -e "s#__UPSTREAM_PORT__#$UPSTREAM_PORT#g" -e "s#__PROXY_PORT__#$PROXY_PORT#g" "$1" > "$2"; }
render bench/nginx-upstream.conf "$DIR/upstream.conf"
render bench/nginx-proxy.conf "$DIR/proxy.conf"

wait_http() {  # url
  for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "not answering: $1"; exit 1
}

nginx -c "$DIR/upstream.conf" -p "$DIR" & PIDS+=($!)
nginx -c "$DIR/proxy.conf" -p "$DIR" & PIDS+=($!)
wait_http "http://127.0.0.1:$UPSTREAM_PORT/"
wait_http "http://127.0.0.1:$PROXY_PORT/openai/"

start_tollgate() {  # port, extra env...
  local port=$1; shift
  env TOLLGATE_LISTEN="127.0.0.1:$port" TOLLGATE_DB="$DIR/bench-$port.db" \
    TOLLGATE_OPENAI_BASE_URL="http://127.0.0.1:$UPSTREAM_PORT" TOLLGATE_LOG_LEVEL=warning "$@" \
    "$BIN" serve > "$DIR/tollgate-$port.log" 2>&1 & PIDS+=($!)
  wait_http "http://127.0.0.1:$port/healthz"
}
start_tollgate "$TG_PORT"

# Targets: name | URL | PID whose CPU and memory are measured (nginx: its single worker).
worker_of() { pgrep -P "$1" | head -1; }
TARGETS=(
  "direct|http://127.0.0.1:$UPSTREAM_PORT/v1/chat/completions|$(worker_of "${PIDS[0]}")"
  "nginx-proxy|http://127.0.0.1:$PROXY_PORT/openai/v1/chat/completions|$(worker_of "${PIDS[1]}")"
  "tollgate|http://127.0.0.1:$TG_PORT/openai/v1/chat/completions|${PIDS[2]}"
)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
TICK=$(getconf CLK_TCK)

declare -A RPS P50
ROWS=()
run() {  # name url pid threads conns seconds
  local name=$1 url=$2 pid=$3 threads=$4 conns=$5 secs=$6
  wrk -t"$threads" -c"$conns" -d1s -s bench/post.lua "$url" > /dev/null  # warm-up
  local before; before=$(cpu_ticks "$pid")
  local out; out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" -s bench/post.lua "$url" | grep '^RESULT')
  local after; after=$(cpu_ticks "$pid")
  local rps p50 p99 reqs errs
  rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$out"); p50=$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$out")
  p99=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$out"); reqs=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$out")
  errs=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$out")
  local cpu; cpu=$(awk -v t=$((after - before)) -v hz="$TICK" -v r="$reqs" 'BEGIN {printf "%.4f", t * 1000 / hz / r}')
  RPS[$name-c$conns]=$rps; P50[$name-c$conns]=$p50
  ROWS+=("| $name | $conns | $(printf %.0f "$rps") | $(awk -v v="$p50" 'BEGIN{printf "%.3f", v/1000}') | $(awk -v v="$p99" 'BEGIN{printf "%.3f", v/1000}') | $cpu | $(rss_mb "$pid") | $errs |")
}

for target in "${TARGETS[@]}"; do
  IFS='|' read -r name url pid <<<"$target"
  echo "… $name c1 (${C1_SECONDS}s)" >&2; run "$name" "$url" "$pid" 1 1 "$C1_SECONDS"
  echo "… $name c32 (${C32_SECONDS}s)" >&2; run "$name" "$url" "$pid" 2 32 "$C32_SECONDS"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
added() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (a - b) / 1000}'; }
mkdir -p bench/out
{
  echo "Run: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, wrk and all servers on loopback; nginx with 1 worker."
  echo
  echo "| target | conns | RPS | p50 ms | p99 ms | CPU ms/req | RSS MB | errors |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "- Tollgate / nginx-proxy RPS at c32: $(ratio "${RPS[tollgate-c32]}" "${RPS[nginx-proxy-c32]}") (floor 0.25)"
  echo "- added p50 at c1: nginx-proxy $(added "${P50[nginx-proxy-c1]}" "${P50[direct-c1]}") ms, tollgate $(added "${P50[tollgate-c1]}" "${P50[direct-c1]}") ms (floor ≤ 0.3 ms)"
} | tee bench/out/latest.md
