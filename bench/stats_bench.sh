#!/usr/bin/env bash
# Stats at scale: generates N usage events spread over 30 days with the real writer (WriterBench,
# rollups included), starts Tollgate on that database and times GET /admin/stats for a 30-day
# range with several filters. Prints p50/p95 per query. Usage: bench/stats_bench.sh [--skip-build]
# Env: STATS_EVENTS (10000000), STATS_QUERIES (100 per filter), STATS_DB (reuse an existing file).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${STATS_EVENTS:-10000000}
QUERIES=${STATS_QUERIES:-100}
DIR=$(mktemp -d /tmp/tollgate-stats.XXXXXX)
DB=${STATS_DB:-$DIR/stats.db}
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT

if [ "${1:-}" != "--skip-build" ]; then swift build -c release --product tollgate >/dev/null && swift build -c release --product WriterBench >/dev/null; fi
if [ ! -s "$DB" ]; then
  echo "generating $EVENTS events over 30 days into $DB …"
  # Paced below the writer's ceiling: flat out, producers would outrun it and events beyond max_pending would be dropped.
  .build/release/WriterBench --events "$EVENTS" --producers 2 --rate 60000 --days 30 --keep "$DB" 2>&1 | grep -v "^20" | sed "s/^/  /"
fi
echo "database: $(du -h "$DB" | cut -f1)"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOLLGATE_LISTEN=127.0.0.1:$PORT TOLLGATE_DB=$DB TOLLGATE_ADMIN_KEY=bench TOLLGATE_LOG_LEVEL=warning \
  .build/release/tollgate serve > "$DIR/tollgate.log" 2>&1 & PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.05; done

python3 - "$PORT" "$QUERIES" <<'PY'
import sys, time, urllib.request, json
port, n = sys.argv[1], int(sys.argv[2])
# The generated traffic ends 2026-11-20; ranges are absolute so the run is repeatable.
base = "from=2026-10-21T00:00:00Z&to=2026-11-20T00:00:00Z"
queries = {
    "30 days, all": base,
    "30 days, one org": base + "&org=org3",
    "30 days, one model": base + "&model=gpt-4o",
    "30 days, org + provider": base + "&org=org1&provider=anthropic",
    "30 days, ragged edges": "from=2026-10-21T07:13:00Z&to=2026-11-19T18:47:00Z",
}
print(f"| query | p50 ms | p95 ms | requests counted |\n| --- | ---: | ---: | ---: |")
for name, q in queries.items():
    times, answer = [], None
    for _ in range(n):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/admin/stats?{q}", headers={"Authorization": "Bearer bench"})
        t = time.perf_counter()
        answer = json.load(urllib.request.urlopen(req))
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"| {name} | {times[len(times)//2]:.2f} | {times[int(len(times)*0.95)-1]:.2f} | {answer['requests']} |")
PY
