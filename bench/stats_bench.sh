#!/usr/bin/env bash
# Stats at scale: generates N usage events spread over 30 days with the real writer (WriterBench,
# rollups included), starts Tollgate on that database (timing how long opening it takes: any
# pending migration runs then) and times every stats endpoint for a 30-day range: /admin/stats
# with several filters, timeseries by hour and day, breakdowns by each dimension, forecast and
# usage. Prints p50/p95 per query. Usage: bench/stats_bench.sh [--skip-build]
# Env: STATS_EVENTS (10000000), STATS_QUERIES (100 per query), STATS_DB (reuse an existing file;
# opening it applies pending migrations), TOLLGATE_BIN (.build/release/tollgate; e.g. another
# checkout's build, for a before/after pair), STATS_ROLLUP_TAGS (feature,prompt: rolled up by the
# writer and by the server; a tag new to a reused database is rolled up when the server opens it).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${STATS_EVENTS:-10000000}
QUERIES=${STATS_QUERIES:-100}
TAGS=${STATS_ROLLUP_TAGS-feature,prompt}
DIR=$(mktemp -d /tmp/tollgate-stats.XXXXXX)
DB=${STATS_DB:-$DIR/stats.db}
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT

if [ "${1:-}" != "--skip-build" ]; then swift build -c release --product tollgate >/dev/null && swift build -c release --product WriterBench >/dev/null; fi
if [ ! -s "$DB" ]; then
  echo "generating $EVENTS events over 30 days into $DB …"
  # Paced below the writer's ceiling: flat out, producers would outrun it and events beyond max_pending would be dropped.
  .build/release/WriterBench --events "$EVENTS" --producers 2 --rate 50000 --days 30 --keep "$DB" --rollup-tags "$TAGS" 2>&1 | grep -v "^20" | sed "s/^/  /"
fi
echo "database: $(du -h "$DB" | cut -f1)"

BIN=${TOLLGATE_BIN:-.build/release/tollgate}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOLLGATE_LISTEN=127.0.0.1:$PORT TOLLGATE_DB=$DB TOLLGATE_ADMIN_KEY=bench TOLLGATE_LOG_LEVEL=warning TOLLGATE_ADMIN_REQUESTS_PER_MINUTE=0 \
  TOLLGATE_ROLLUP_TAGS=$TAGS "$BIN" serve > "$DIR/tollgate.log" 2>&1 & PID=$!
START=$(date +%s.%N)
for _ in $(seq 1 12000); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.05; done
echo "open (migrations included) until /healthz answers: $(python3 -c "print(f'{$(date +%s.%N) - $START:.1f}')") s"

python3 - "$PORT" "$QUERIES" <<'PY'
import sys, time, urllib.request, json
port, n = sys.argv[1], int(sys.argv[2])
# The generated traffic ends 2026-11-20; ranges are absolute so the run is repeatable.
base = "from=2026-10-21T00:00:00Z&to=2026-11-20T00:00:00Z"
stats = "/admin/stats?"
# A request id that exists (WriterBench's ids are random): the newest event's.
newest = urllib.request.Request(f"http://127.0.0.1:{port}/admin/usage?limit=1", headers={"Authorization": "Bearer bench"})
newest_id = json.loads(urllib.request.urlopen(newest).read())["data"][0]["request_id"]
queries = {
    "stats: 30 days, all": stats + base,
    "stats: 30 days, one org": stats + base + "&org=org3",
    "stats: 30 days, one model": stats + base + "&model=gpt-4o",
    "stats: 30 days, org + provider": stats + base + "&org=org1&provider=anthropic",
    "stats: 30 days, one key": stats + base + "&key=key_2_1",
    "stats: 30 days, one user": stats + base + "&user=user3_2_5",
    "stats: 30 days, ragged edges": stats + "from=2026-10-21T07:13:00Z&to=2026-11-19T18:47:00Z",
    "timeseries day": "/admin/stats/timeseries?granularity=day&" + base,
    "timeseries hour": "/admin/stats/timeseries?granularity=hour&" + base,
    "timeseries hour, one org": "/admin/stats/timeseries?granularity=hour&org=org3&" + base,
    "timeseries day by team": "/admin/stats/timeseries?granularity=day&group_by=team&" + base,
    "breakdown by org": "/admin/stats/breakdown?by=org&" + base,
    "breakdown by key": "/admin/stats/breakdown?by=key&" + base,
    "breakdown by team": "/admin/stats/breakdown?by=team&" + base,
    "breakdown by user": "/admin/stats/breakdown?by=user&" + base,
    "breakdown by user, one org": "/admin/stats/breakdown?by=user&org=org3&" + base,
    "breakdown by provider": "/admin/stats/breakdown?by=provider&" + base,
    "breakdown by model": "/admin/stats/breakdown?by=model&" + base,
    "forecast": "/admin/stats/forecast",
    "usage, 100 events": "/admin/usage?limit=100",
    # SPEC §13
    "errors": "/admin/stats/errors?" + base,
    "errors, one org": "/admin/stats/errors?org=org3&" + base,
    "breakdown by department": "/admin/stats/breakdown?by=department&" + base,
    "breakdown by outcome": "/admin/stats/breakdown?by=outcome&" + base,
    "breakdown by status, one model": "/admin/stats/breakdown?by=status&model=gpt-4o&" + base,
    "stats: 30 days, one department": stats + base + "&department=research",
    "stats: 30 days, outcome upstream_error": stats + base + "&outcome=upstream_error",
    "timeseries week": "/admin/stats/timeseries?granularity=week&" + base,
    "timeseries month": "/admin/stats/timeseries?granularity=month&" + base,
    "timeseries day, Europe/Berlin": "/admin/stats/timeseries?granularity=day&tz=Europe/Berlin&" + base,
    "usage by request_id": "/admin/usage?request_id=" + newest_id,
    # SPEC §13 configured rollup tags (STATS_ROLLUP_TAGS)
    "breakdown by tag.feature": "/admin/stats/breakdown?by=tag.feature&" + base,
    "breakdown by tag.prompt (300 values)": "/admin/stats/breakdown?by=tag.prompt&" + base,
    "breakdown by tag.prompt, one org": "/admin/stats/breakdown?by=tag.prompt&org=org3&" + base,
    "stats: 30 days, tag.feature=chat": stats + base + "&tag.feature=chat",
    "stats: 30 days, tag.prompt=prompt-7, ragged": stats + "from=2026-10-21T07:13:00Z&to=2026-11-19T18:47:00Z&tag.prompt=prompt-7",
    "timeseries day by tag.feature": "/admin/stats/timeseries?granularity=day&group_by=tag.feature&" + base,
    "timeseries hour, tag.feature=search": "/admin/stats/timeseries?granularity=hour&tag.feature=search&" + base,
    "dashboard, 30 days": "/dashboard?" + base,
}
def counted(answer):
    if "requests" in answer: return answer["requests"]
    rows = answer.get("data")
    if isinstance(rows, list): return sum(r.get("requests", 1) for r in rows)
    return "-"
print(f"| query | p50 ms | p95 ms | requests counted |\n| --- | ---: | ---: | ---: |")
for name, q in queries.items():
    times, answer = [], None
    for _ in range(n):
        req = urllib.request.Request(f"http://127.0.0.1:{port}{q}", headers={"Authorization": "Bearer bench"})
        t = time.perf_counter()
        body = urllib.request.urlopen(req).read()
        answer = json.loads(body) if q.startswith("/admin") else {}
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"| {name} | {times[len(times)//2]:.2f} | {times[max(0, int(len(times)*0.95)-1)]:.2f} | {counted(answer)} |", flush=True)
PY
