-- wrk script for bench/run.sh: POST a small OpenAI chat completion on every request, and at the end
-- print one machine-readable line with exact figures from wrk's own histogram (microseconds), so
-- run.sh does not have to parse wrk's rounded human-readable latency table.
-- The body comes from run.sh (BENCH_REQUEST_BODY) so the sanity check and the load send the same bytes.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_REQUEST_BODY")
  or '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}]}'
wrk.headers["Content-Type"] = "application/json"
-- A passthrough provider key by default; run.sh sets BENCH_AUTH to a tg_ key for the keyed target.
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_AUTH") or "sk-bench")

-- BENCH_UNIQUE=1: every request's body differs (a counter in a "user"-independent field), so a
-- cache-on Tollgate misses every time — the miss side of the cache benchmark.
if os.getenv("BENCH_UNIQUE") == "1" then
  -- Each wrk thread has its own Lua state: number them, so their counters never collide.
  local threads = 0
  function setup(thread)
    threads = threads + 1
    thread:set("thread_id", threads)
  end
  local counter = 0
  request = function()
    counter = counter + 1
    local tag = string.format("%d-%d-%d", os.time(), thread_id or 0, counter)
    local body = wrk.body:gsub('"Say hi"', '"Say hi ' .. tag .. '"', 1)
    return wrk.format(nil, nil, nil, body)
  end
end

-- Called once, in wrk's main thread, with the latency histogram merged over all threads.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d rps=%.2f p50_us=%.1f p90_us=%.1f p99_us=%.1f"
      .. " max_us=%.1f mean_us=%.1f errors=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    e.connect + e.read + e.write + e.status + e.timeout,
    e.connect, e.read, e.write, e.status, e.timeout))
end
