-- wrk script for bench/long_streams.sh: POST a streaming OpenAI chat completion on every request
-- (the upstream, bench/delay_mock with --events, answers with a long SSE stream), and print one
-- machine-readable line at the end.
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Tell me a long story"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH_RESULT requests=%d p50_us=%.1f errors=%d connect=%d read=%d timeout=%d status=%d\n",
    summary.requests, latency:percentile(50), e.connect + e.read + e.write + e.status + e.timeout,
    e.connect, e.read, e.timeout, e.status))
end
