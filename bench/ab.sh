#!/usr/bin/env bash
# A/B throughput of two Tollgate binaries in interleaved rounds, for ratios that shared machines
# blur: bench/run.sh measures its targets one after another, minutes apart, and on this 2-core VM
# the machine's speed drifts by 10-20 % over that time. Here each round runs wrk -t2 -c32 against
# A and B back to back (A first in odd rounds, B first in even ones), so drift hits both alike;
# the summary gives the median and mean of the per-round ratios and the ratio of the totals. On
# this VM single rounds range from 0.75 to 1.25 for the same pair: use 20-30 short rounds
# (AB_ROUNDS=30 AB_SECONDS=3) rather than a few long ones.
#
# Usage: bench/ab.sh BIN_A BIN_B        e.g. A = .build/release/tollgate, B = a forwarding-only
#                                       build of commit a13fa56 (the metering-cost ratio)
# Env: AB_ROUNDS (10), AB_SECONDS (8 per run), AB_CONNECTIONS (32; 1 compares added latency, see
# the p50 line), TOLLGATE_* (passed to both; LISTEN, DB and
# OPENAI_BASE_URL are set here), AB_ENV_A / AB_ENV_B (extra VAR=value words for one side only;
# __MOCK__ stands for the mock's URL, e.g. the same binary twice with
# AB_ENV_A='OTEL_EXPORTER_OTLP_ENDPOINT=__MOCK__' for the cost of tracing, the nginx mock
# answering the OTLP posts). Both proxies sit in front of the same nginx mock on 127.0.0.1,
# on free ports; every process started is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -eq 2 && -x $1 && -x $2 ]] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
A=$1 B=$2 ROUNDS=${AB_ROUNDS:-10} SECS=${AB_SECONDS:-8} CONNS=${AB_CONNECTIONS:-32}
DIR=$(mktemp -d /tmp/tollgate-ab.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

MOCK=$(port)
sed -e "s#__DIR__#$DIR#g" -e "s#__NAME__#mock#g" -e "s#__PORT__#$MOCK#g" -e "s#__UPSTREAM_PORT__#none#g" \
  bench/nginx-upstream.conf > "$DIR/mock.conf"
nginx -p "$DIR" -c "$DIR/mock.conf" > "$DIR/mock.log" 2>&1 & PIDS+=($!)
declare -A PORT PID
for side in a b; do
  bin=$A extra=${AB_ENV_A:-}; [[ $side == b ]] && bin=$B extra=${AB_ENV_B:-}
  PORT[$side]=$(port)
  # shellcheck disable=SC2086 # extra is a list of VAR=value words
  env ${extra//__MOCK__/http://127.0.0.1:$MOCK} \
    TOLLGATE_LISTEN=127.0.0.1:${PORT[$side]} TOLLGATE_DB=$DIR/$side.db TOLLGATE_OPENAI_BASE_URL=http://127.0.0.1:$MOCK \
    TOLLGATE_LOG_LEVEL=warning "$bin" serve > "$DIR/$side.log" 2>&1 &
  PID[$side]=$!
  PIDS+=("${PID[$side]}")
done
for side in a b; do
  for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:${PORT[$side]}/healthz" && break; sleep 0.1; done
done
export BENCH_REQUEST_BODY='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}]}' BENCH_AUTH=sk-bench BENCH_UNIQUE=0
url() { echo "http://127.0.0.1:${PORT[$1]}/openai/v1/chat/completions"; }
for side in a b; do wrk -t2 -c32 -d2s -s bench/post.lua "$(url $side)" > /dev/null; done  # warm-up
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
echo "A = $A"
echo "B = $B"
for round in $(seq 1 "$ROUNDS"); do
  # A then B in odd rounds, B then A in even ones, so a machine speeding up or slowing down
  # within a round favours neither side.
  order="a b"; ((round % 2 == 0)) && order="b a"
  for side in $order; do
    t0=$(ticks "${PID[$side]}")
    out=$(timeout $((SECS + 30)) wrk -t$((CONNS < 2 ? 1 : 2)) -c"$CONNS" -d"${SECS}s" --latency -s bench/post.lua "$(url $side)")
    t1=$(ticks "${PID[$side]}")
    awk -v r="$round" -v s="$side" -v dt=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
      /Requests\/sec/ { rps = $2 } / 50%/ { p50 = $2 } / requests in / { n = $1 }
      END { printf "%s %s %.0f %s %.1f\n", r, s, rps, p50, dt * 1e6 / hz / n }' <<< "$out" | tee -a "$DIR/rounds"
  done
done
python3 - "$DIR/rounds" "$CONNS" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def ms(text):
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
p50 = {s: statistics.median(ms(r[3]) for r in rows if r[1] == s) for s in "ab"}
a = [float(r[2]) for r in rows if r[1] == "a"]
b = [float(r[2]) for r in rows if r[1] == "b"]
ratios = [x / y for x, y in zip(a, b)]
cpu = {s: statistics.median(float(r[4]) for r in rows if r[1] == s) for s in "ab"}
print("round ratios A/B: " + " ".join(f"{r:.2f}" for r in ratios))
print(f"median p50 latency at c{sys.argv[2]}: A {p50['a']:.3f} ms, B {p50['b']:.3f} ms, A − B {p50['a'] - p50['b']:+.3f} ms")
print(f"A/B RPS at c{sys.argv[2]}: median {statistics.median(ratios):.3f}, mean {statistics.mean(ratios):.3f}, "
      f"totals {sum(a) / sum(b):.3f}; median RPS A {statistics.median(a):.0f}, B {statistics.median(b):.0f}; "
      f"median CPU µs/request A {cpu['a']:.1f}, B {cpu['b']:.1f}")
PY
