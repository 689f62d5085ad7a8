-- wrk script for the hello-world baseline: plain GETs, and the same RESULT line as webhook_intake.lua.
function done(summary, latency, requests)
  io.write(string.format(
    "RESULT requests=%d seconds=%.1f non_2xx=%d socket_errors=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f over_1s_pct=0\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
