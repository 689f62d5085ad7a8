-- wrk script: POST pre-signed webhook bodies in turn (wrk's Lua has no HMAC, so Python signs them).
-- The bodies file has one request per two lines: the signature header value, then the JSON body.
local bodies = {}
local signatures = {}

local threads_created = 0

-- Runs in the main Lua state once per thread: give each thread its own number.
function setup(thread)
  thread:set("thread_number", threads_created)
  threads_created = threads_created + 1
end

function init(args)
  local path = args[1]
  local file = assert(io.open(path, "r"))
  while true do
    local signature = file:read("*l")
    local body = file:read("*l")
    if not signature or not body then break end
    signatures[#signatures + 1] = signature
    bodies[#bodies + 1] = body
  end
  file:close()
  -- Threads start far apart (golden-ratio spacing) so they never send the same body: each Lua
  -- state has its own unseeded math.random, which would give every thread the same offset.
  local spacing = (thread_number or 0) * 0.6180339887
  counter = math.floor(#bodies * (spacing - math.floor(spacing)))
end

function request()
  counter = counter % #bodies + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = signatures[counter],
  }, bodies[counter])
end

function done(summary, latency, requests)
  -- Share of requests slower than 1 s: find the percentile where latency crosses 1,000,000 us.
  local over = 0
  for step = 0, 10000 do
    local p = 90 + step * 0.001
    if latency:percentile(p) > 1e6 then over = 100 - p; break end
  end
  io.write(string.format(
    "RESULT requests=%d seconds=%.1f non_2xx=%d socket_errors=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f over_1s_pct=%.3f\n",
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, over))
end
