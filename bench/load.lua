-- wrk script of the mixed agent/requester workload (bench/measure_load.py writes the targets).
-- Each line of the targets file: <path><TAB><cookie>. Requests go round the list, each thread
-- starting at its own offset; done() prints one BENCH_JSON line that measure_load.py parses.
local targets = {}
local position = 0
local thread_count = 0

function setup(thread)
  thread:set("offset", thread_count * 7)
  thread_count = thread_count + 1
end

function init(args)
  for line in io.lines(args[1]) do
    local path, cookie = line:match("^([^\t]+)\t?(.*)$")
    if path then
      table.insert(targets, { path = path, cookie = cookie })
    end
  end
  position = tonumber(offset) or 0
end

function request()
  position = position + 1
  local target = targets[(position % #targets) + 1]
  local headers = { ["User-Agent"] = "helpdesk-bench-wrk" }
  if target.cookie ~= "" then
    headers["Cookie"] = target.cookie
  end
  return wrk.format("GET", target.path, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"latency_us":{"p50":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
