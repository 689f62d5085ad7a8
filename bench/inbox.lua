-- wrk script for bench/inbox.py: GET the listed paths in turn as a signed-in agent.
-- Arguments: a file with one path per line, then the Cookie header value (the session). A line
-- "path HX-Target" asks as htmx does when a list row is clicked: only that part of the page.
local paths = {}
local targets = {}
local cookie = ""
local threads_created = 0

function setup(thread)
  thread:set("thread_number", threads_created)
  threads_created = threads_created + 1
end

function init(args)
  for line in io.lines(args[1]) do
    local path, target = line:match("^(%S+)%s+(%S+)$")
    if path then
      paths[#paths + 1] = path
      targets[#paths] = target
    elseif #line > 0 then
      paths[#paths + 1] = line
    end
  end
  cookie = args[2]
  -- Threads start at different places in the list, so they do not ask for the same page together.
  counter = math.floor(#paths * (((thread_number or 0) * 0.6180339887) % 1))
end

function request()
  counter = counter % #paths + 1
  local headers = {["Cookie"] = cookie}
  if targets[counter] then
    headers["HX-Request"] = "true"
    headers["HX-Target"] = targets[counter]
  end
  return wrk.format("GET", paths[counter], headers)
end

function done(summary, latency, requests)
  io.write(string.format(
    "RESULT requests=%d seconds=%.1f non_2xx=%d socket_errors=%d p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
