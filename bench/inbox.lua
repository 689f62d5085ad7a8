-- wrk script for bench/inbox.py: GET the listed paths in turn as a signed-in agent.
-- Arguments: a file with one path per line, then the Cookie header value (the session).
local paths = {}
local cookie = ""
local threads_created = 0

function setup(thread)
  thread:set("thread_number", threads_created)
  threads_created = threads_created + 1
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  cookie = args[2]
  -- Threads start at different places in the list, so they do not ask for the same page together.
  counter = math.floor(#paths * (((thread_number or 0) * 0.6180339887) % 1))
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter], {["Cookie"] = cookie})
end

function done(summary, latency, requests)
  io.write(string.format(
    "RESULT requests=%d seconds=%.1f non_2xx=%d socket_errors=%d p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
