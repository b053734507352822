#!/usr/bin/env bash
# Thousands of concurrent slow answers (issue 16): wrk holds CONNS connections (2,048) against a
# proxy whose upstream answers each request after DELAY_MS (50 ms, bench/delay_mock), so the proxy
# must keep thousands of transfers open at once. Targets, one after another in one run: the mock
# directly (the floor), a plain nginx reverse proxy, Tollgate with its default upstream drivers
# (one per core) and with one driver (the old default). Prints RPS, p50/p99 and errors per target
# and each Tollgate's ratios to nginx. Everything binds 127.0.0.1 on free ports; every process
# started is stopped by PID on exit.
#
# Usage: bench/concurrency.sh [--skip-build]
# Env: CONNS (2048), DELAY_MS (50), SECONDS_PER_RUN (10), TOLLGATE_BIN (.build/release/tollgate)
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-2048} DELAY_MS=${DELAY_MS:-50} RUN=${SECONDS_PER_RUN:-10}
BIN=${TOLLGATE_BIN:-.build/release/tollgate}
if [ "${1:-}" != "--skip-build" ]; then
  swift build -c release --product tollgate > /dev/null && swift build -c release --product DelayMock > /dev/null
fi
DIR=$(mktemp -d /tmp/tollgate-concurrency.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ready() { for _ in $(seq 1 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; echo "not ready: $1" >&2; exit 1; }

MOCK=$(port)
.build/release/DelayMock --port "$MOCK" --delay-ms "$DELAY_MS" > "$DIR/mock.log" 2>&1 & PIDS+=($!)
ready "http://127.0.0.1:$MOCK/v1/chat/completions"

NGINX=$(port)
cat > "$DIR/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $DIR/body; proxy_temp_path $DIR/proxy; fastcgi_temp_path $DIR/fastcgi;
  uwsgi_temp_path $DIR/uwsgi; scgi_temp_path $DIR/scgi;
  keepalive_requests 100000000;
  upstream mock { server 127.0.0.1:$MOCK; keepalive 4096; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:$NGINX backlog=4096;
    location /openai/ { proxy_pass http://mock/; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }
  }
}
CONF
nginx -p "$DIR" -c "$DIR/nginx.conf" > "$DIR/nginx.log" 2>&1 & PIDS+=($!)
ready "http://127.0.0.1:$NGINX/openai/v1/chat/completions"

start_tollgate() {  # name, extra env...; sets PORT (not a subshell: PIDS must keep its PID)
  local name=$1; shift
  PORT=$(port)
  env TOLLGATE_LISTEN=127.0.0.1:$PORT TOLLGATE_DB="$DIR/$name.db" TOLLGATE_LOG_LEVEL=warning \
    TOLLGATE_OPENAI_BASE_URL=http://127.0.0.1:$MOCK TOLLGATE_MAX_CONNECTIONS=8192 "$@" "$BIN" serve > "$DIR/$name.log" 2>&1 &
  PIDS+=($!)
  ready "http://127.0.0.1:$PORT/healthz"
}
start_tollgate tollgate; TG=$PORT
start_tollgate tollgate-1-driver TOLLGATE_UPSTREAM_THREADS=1; TG1=$PORT

run() {  # label, url
  wrk -t2 -c"$CONNS" -d2s --timeout 10s -s bench/post.lua "$2" > /dev/null 2>&1 || true   # warm-up
  local out; out=$(wrk -t2 -c"$CONNS" -d"${RUN}s" --timeout 10s -s bench/post.lua "$2" 2>&1 | grep BENCH_RESULT)
  local rps p50 p99 errors
  rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<< "$out"); p50=$(sed -E 's/.*p50_us=([0-9.]+).*/\1/' <<< "$out")
  p99=$(sed -E 's/.*p99_us=([0-9.]+).*/\1/' <<< "$out"); errors=$(sed -E 's/.*errors=([0-9]+).*/\1/' <<< "$out")
  echo "$1 $rps $p50 $p99 $errors"
}
echo "$CONNS connections, upstream answers after $DELAY_MS ms, ${RUN} s per target"
echo "| target | RPS | p50 ms | p99 ms | errors |"
echo "| --- | ---: | ---: | ---: | ---: |"
declare -A RPS P50
for target in "mock http://127.0.0.1:$MOCK/v1/chat/completions" "nginx http://127.0.0.1:$NGINX/openai/v1/chat/completions" \
  "tollgate http://127.0.0.1:$TG/openai/v1/chat/completions" "tollgate-1-driver http://127.0.0.1:$TG1/openai/v1/chat/completions"; do
  read -r label rps p50 p99 errors <<< "$(run $target)"
  RPS[$label]=$rps P50[$label]=$p50
  python3 -c "print('| $label | %.0f | %.1f | %.1f | $errors |' % ($rps, $p50 / 1000, $p99 / 1000))"
done
for t in tollgate tollgate-1-driver; do
  python3 -c "print('$t vs nginx: RPS %.2fx (floor 0.8x), p50 %.2fx (floor at most 1.5x)' % (${RPS[$t]} / ${RPS[nginx]}, ${P50[$t]} / ${P50[nginx]}))"
done
