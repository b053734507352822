#!/usr/bin/env bash
# Prune under load: request latency while `tollgate db prune` deletes about a million events.
#
# On a copy of a stats database (bench/stats_bench.sh makes one: 10M events over the 30 days
# before 2026-11-20), Tollgate (release) runs in front of the nginx mock; `tollgate db prune
# --events-days DAYS` deletes the oldest events while wrk -t2 -c32 loads Tollgate in alternating
# windows, the prune running in one and held (SIGSTOP) in the next. Prints RPS and p99 of every
# window, events deleted per running window, and the median p99 of running vs held windows.
# Every process started is stopped by PID on exit.
#
# Usage: bench/prune_bench.sh          Env: STATS_DB (required: the source database, copied first),
#   PRUNE_DAYS (27: about 1.3M of the 10M events are older), PRUNE_SECONDS (5 per window),
#   PRUNE_WINDOWS (8 of each kind), TOLLGATE_BIN (.build/release/tollgate)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${STATS_DB:?set STATS_DB to a database made by bench/stats_bench.sh}"
DAYS=${PRUNE_DAYS:-27}
SECONDS_PER_RUN=${PRUNE_SECONDS:-5}
WINDOWS=${PRUNE_WINDOWS:-8}
BIN=${TOLLGATE_BIN:-.build/release/tollgate}
DIR=$(mktemp -d /tmp/tollgate-prune.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "copying $STATS_DB …"
cp "$STATS_DB" "$DIR/usage.db"
MOCK_PORT=$(port)
sed -e "s#__DIR__#$DIR#g" -e "s#__NAME__#mock#g" -e "s#__PORT__#$MOCK_PORT#g" -e "s#__UPSTREAM_PORT__#none#g" \
  bench/nginx-upstream.conf > "$DIR/mock.conf"
nginx -p "$DIR" -c "$DIR/mock.conf" > "$DIR/mock.log" 2>&1 & PIDS+=($!)
TG_PORT=$(port)
TOLLGATE_LISTEN=127.0.0.1:$TG_PORT TOLLGATE_DB=$DIR/usage.db TOLLGATE_OPENAI_BASE_URL=http://127.0.0.1:$MOCK_PORT \
  TOLLGATE_LOG_LEVEL=warning "$BIN" serve > "$DIR/tollgate.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$TG_PORT/healthz" && break; sleep 0.1; done
URL=http://127.0.0.1:$TG_PORT/openai/v1/chat/completions
export BENCH_REQUEST_BODY='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}]}' BENCH_AUTH=sk-bench BENCH_UNIQUE=0
wrk -t2 -c32 -d3s -s bench/post.lua "$URL" > /dev/null  # warm-up

# load NAME: one wrk run; prints "NAME rps p99_ms".
load() {
  local out
  out=$(timeout $((SECONDS_PER_RUN + 30)) wrk -t2 -c32 -d"${SECONDS_PER_RUN}s" --latency -s bench/post.lua "$URL")
  awk -v n="$1" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
    /Requests\/sec/ { rps = $2 } / 99%/ { p99 = ms($2) }
    END { printf "%s %.0f %.3f\n", n, rps, p99 }' <<< "$out"
}

# Alternating windows: the prune process runs (SIGCONT) or is held (SIGSTOP) while wrk loads
# Tollgate. On a shared VM a single run's p99 moves by ±50 % from one run to the next, so the
# prune's effect is read from the median of several interleaved windows of each kind.
"$BIN" db prune --events-days "$DAYS" --db "$DIR/usage.db" > "$DIR/prune.out" 2>&1 &
PRUNE=$!
PIDS+=("$PRUNE")
START=$(date +%s.%N)
deleted() { tr '\r' '\n' < "$DIR/prune.out" | grep -a -o 'deleted [0-9]* events' | tail -n 1 | grep -o '[0-9]*' || echo 0; }
for round in $(seq 1 "$WINDOWS"); do
  kill -CONT "$PRUNE" 2> /dev/null || true
  before=$(deleted)
  alive=$(kill -0 "$PRUNE" 2> /dev/null && echo 1 || echo 0)
  load "pruning" | tee -a "$DIR/runs"
  echo "  events deleted in that window: $(($(deleted) - before))$([ "$alive" = 0 ] && echo ' (prune had finished)')"
  kill -STOP "$PRUNE" 2> /dev/null || true
  load "held" | tee -a "$DIR/runs"
done
kill -CONT "$PRUNE" 2> /dev/null || true
wait "$PRUNE"
END=$(date +%s.%N)
echo "prune: $(tail -n 1 "$DIR/prune.out") ($(python3 -c "print(f'{$END - $START:.1f}')") s wall, held half the time)"
python3 - "$DIR/runs" <<'PY'
import statistics, sys
runs = [line.split() for line in open(sys.argv[1])]
p99 = {k: [float(r[2]) for r in runs if r[0] == k] for k in ("pruning", "held")}
rps = {k: [float(r[1]) for r in runs if r[0] == k] for k in ("pruning", "held")}
a, b = statistics.median(p99["pruning"]), statistics.median(p99["held"])
print(f"median p99: pruning {a:.3f} ms, held {b:.3f} ms: {(a / b - 1) * 100:+.1f} %; "
      f"median RPS {statistics.median(rps['pruning']) / statistics.median(rps['held']):.2f}x")
PY
