#!/usr/bin/env bash
# Thousands of long streams (issue 16): wrk holds STREAMS connections, each asking for a streamed
# chat completion; the upstream (bench/delay_mock --events) answers each with EVENTS server-sent
# events INTERVAL_MS apart (300 × 20 ms: a 6-second answer), so the proxy relays
# STREAMS / INTERVAL_MS events per millisecond for the whole run. Targets, one after the other: a
# plain nginx reverse proxy (proxy_buffering off) and Tollgate (metering on, passthrough key). For
# each count of streams it prints, per target: events relayed, the proxy's CPU per event (process
# CPU time over the run ÷ events the mock sent in it), streams completed, errors, and the proxy's
# resident memory in the middle of the run, idle and per open stream; for Tollgate also whether
# every completed stream was recorded with the provider's exact usage (300 output tokens).
# Everything binds 127.0.0.1 on free ports; every process started is stopped by PID on exit.
#
# Usage: bench/long_streams.sh [--skip-build]
# Env: STREAMS ("1000 5000"), EVENTS (300), INTERVAL_MS (20), SECONDS_PER_RUN (15),
#      TOLLGATE_BIN (.build/release/tollgate)
set -euo pipefail
cd "$(dirname "$0")/.."
STREAMS=${STREAMS:-"1000 5000"} EVENTS=${EVENTS:-300} INTERVAL_MS=${INTERVAL_MS:-20} RUN=${SECONDS_PER_RUN:-15}
BIN=${TOLLGATE_BIN:-.build/release/tollgate}
if [ "${1:-}" != "--skip-build" ]; then
  swift build -c release --product tollgate > /dev/null && swift build -c release --product DelayMock > /dev/null
fi
ulimit -n "$(ulimit -Hn)"
DIR=$(mktemp -d /tmp/tollgate-streams.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ready() { for _ in $(seq 1 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; echo "not ready: $1" >&2; exit 1; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
sent() { curl -s "http://127.0.0.1:$MOCK/stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["events"], d["streams"])'; }

MOCK=$(port)
.build/release/DelayMock --port "$MOCK" --delay-ms 50 --events "$EVENTS" --interval-ms "$INTERVAL_MS" > "$DIR/mock.log" 2>&1 & PIDS+=($!)
ready "http://127.0.0.1:$MOCK/stats"

NGINX=$(port)
cat > "$DIR/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $DIR/body; proxy_temp_path $DIR/proxy; fastcgi_temp_path $DIR/fastcgi;
  uwsgi_temp_path $DIR/uwsgi; scgi_temp_path $DIR/scgi;
  keepalive_requests 100000000;
  upstream mock { server 127.0.0.1:$MOCK; keepalive 8192; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:$NGINX backlog=8192;
    location /openai/ { proxy_pass http://mock/; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; proxy_read_timeout 60s; }
  }
}
CONF
nginx -p "$DIR" -c "$DIR/nginx.conf" > "$DIR/nginx.log" 2>&1 & NGINX_PID=$!; PIDS+=($NGINX_PID)
ready "http://127.0.0.1:$NGINX/openai/stats"
NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -1)

TG=$(port)
env TOLLGATE_LISTEN=127.0.0.1:$TG TOLLGATE_DB="$DIR/tollgate.db" TOLLGATE_LOG_LEVEL=warning \
  TOLLGATE_OPENAI_BASE_URL=http://127.0.0.1:$MOCK TOLLGATE_MAX_CONNECTIONS=12000 TOLLGATE_IDLE_TIMEOUT=60 "$BIN" serve > "$DIR/tollgate.log" 2>&1 &
TG_PID=$!; PIDS+=($TG_PID)
ready "http://127.0.0.1:$TG/healthz"

echo "$EVENTS events per stream, $INTERVAL_MS ms apart; ${RUN} s per run"
echo "| streams | target | events relayed | CPU µs/event | streams done | errors | RSS idle → mid-run MiB | KiB per stream |"
echo "| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: |"
declare -A CPU
for n in $STREAMS; do
  for target in "nginx $NGINX_WORKER http://127.0.0.1:$NGINX/openai/v1/chat/completions" \
    "tollgate $TG_PID http://127.0.0.1:$TG/openai/v1/chat/completions"; do
    read -r label pid url <<< "$target"
    idle=$(rss_kib "$pid"); read -r e0 s0 <<< "$(sent)"; t0=$(ticks "$pid")
    wrk -t2 -c"$n" -d"${RUN}s" --timeout 30s -s bench/stream.lua "$url" > "$DIR/wrk.out" 2>&1 &
    WRK=$!
    sleep $((RUN / 2)); mid=$(rss_kib "$pid")
    wait $WRK || true
    t1=$(ticks "$pid"); read -r e1 s1 <<< "$(sent)"
    out=$(grep BENCH_RESULT "$DIR/wrk.out" || echo "BENCH_RESULT requests=0 errors=-1")
    done_=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<< "$out"); errors=$(sed -E 's/.*errors=(-?[0-9]+).*/\1/' <<< "$out")
    events=$((e1 - e0))
    CPU[$n-$label]=$(python3 -c "print('%.2f' % (($t1 - $t0) * 1e6 / $(getconf CLK_TCK) / max($events, 1)))")
    python3 -c "print('| $n | $label | $events | ${CPU[$n-$label]} | $done_ | $errors | %.0f → %.0f | %.1f |' % ($idle / 1024, $mid / 1024, ($mid - $idle) / $n))"
    sleep 2  # let the cut streams settle
  done
  python3 -c "print('$n streams: Tollgate CPU per event %.2fx nginx (floor: at most 3 µs an event)' % (${CPU[$n-tollgate]} / ${CPU[$n-nginx]}))"
done
sleep 1
python3 - "$DIR/tollgate.db" "$EVENTS" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT outcome, usage_source, output_tokens = ? AS exact, count(*) FROM usage_events GROUP BY 1, 2, 3",
                  (int(sys.argv[2]),)).fetchall()
print("Tollgate's usage events (outcome, usage source, output exact, count): " + ", ".join(map(str, rows)))
bad = sum(c for o, s, e, c in rows if o == "ok" and not (s == "provider" and e))
print("every completed stream metered with the provider's usage: " + ("yes" if bad == 0 else f"NO ({bad} not)"))
PY
