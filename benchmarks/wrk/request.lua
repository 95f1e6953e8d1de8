-- wrk script of `make bench` (benchmarks/loadwrk.py runs it): one request repeated by
-- every connection, each answer checked, and the figures printed as one JSON line.
--
--   wrk ... -s request.lua URL -- METHOD BODY_FILE GRAPHQL
--
-- METHOD is GET or POST; BODY_FILE is a file whose bytes are the body ("-": none);
-- GRAPHQL is "1" when a 200 carrying "errors" counts as a failure too. Headers come
-- from wrk's own -H options.

-- Globals, not locals: done() reads them from each thread with thread:get.
failures = 0
sample = ""
local graphql = false
local raw = nil
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = args[1] or "GET"
  if args[2] and args[2] ~= "-" then
    local file = assert(io.open(args[2], "rb"))
    wrk.body = file:read("*a")
    file:close()
  end
  graphql = args[3] == "1"
  -- Built once: every request sends the same bytes.
  raw = wrk.format()
end

function request()
  return raw
end

function response(status, headers, body)
  -- A plain search: a GraphQL answer with errors has the key "errors" at its top level,
  -- and no meeting field of the benchmark's queries holds that text.
  if status ~= 200 or (graphql and string.find(body, '"errors"', 1, true)) then
    failures = failures + 1
    if sample == "" then
      sample = "HTTP " .. status .. ": " .. string.sub(body, 1, 300)
    end
  end
end

local function json_string(text)
  return '"' .. string.gsub(text, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

function done(summary, latency, requests)
  local failed = 0
  local first = ""
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
    if first == "" then
      first = thread:get("sample")
    end
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"failures":%d,"socket_errors":%d,"timeouts":%d,'
      .. '"p50_us":%d,"p95_us":%d,"p99_us":%d,"mean_us":%.1f,"sample":%s}\n',
    summary.requests, summary.duration, failed, e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean,
    json_string(first)
  ))
end
