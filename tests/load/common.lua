-- Shared by the load scripts of tests/load/mixed.py (wrk, LuaJIT).
-- Paces each connection to the rate asked (OTD_DELAY_MS between the answer
-- and the next request), counts answers by status in every thread, and
-- prints one JSON line with the totals, the latency percentiles and the
-- socket errors at the end.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
  table.insert(threads, thread)
end

counts = {}
counts_text = ""
extra_text = ""

-- Remembers one answer's status (and any named extra count).
function note(status, extra)
  counts[status] = (counts[status] or 0) + 1
  local parts = {}
  for k, v in pairs(counts) do parts[#parts + 1] = string.format('"%d":%d', k, v) end
  counts_text = table.concat(parts, ",")
  if extra then
    extras = extras or {}
    extras[extra] = (extras[extra] or 0) + 1
    local e = {}
    for k, v in pairs(extras) do e[#e + 1] = string.format('"%s":%d', k, v) end
    extra_text = table.concat(e, ",")
  end
end

local delay_ms = tonumber(os.getenv("OTD_DELAY_MS") or "0")
function delay()
  return delay_ms
end

-- The lines of a data file, split at tabs.
function read_rows(path)
  local rows = {}
  for line in io.lines(path) do
    local row = {}
    for field in string.gmatch(line, "[^\t]+") do row[#row + 1] = field end
    if #row > 0 then rows[#rows + 1] = row end
  end
  return rows
end

local function merge(into, text)
  for k, v in string.gmatch(text, '"([^"]+)":(%d+)') do
    into[k] = (into[k] or 0) + tonumber(v)
  end
end

local function json_object(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = string.format('"%s":%d', k, v) end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local status, extra = {}, {}
  for _, t in ipairs(threads) do
    merge(status, t:get("counts_text") or "")
    merge(extra, t:get("extra_text") or "")
  end
  local e = summary.errors
  io.write(string.format(
    '@@result {"kind":"%s","requests":%d,"seconds":%.3f,"p50_ms":%.3f,"p90_ms":%.3f,' ..
    '"p99_ms":%.3f,"max_ms":%.3f,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"timeouts":%d,"status":%s,"extra":%s}\n',
    os.getenv("OTD_KIND") or "?", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, e.connect, e.read, e.write,
    e.timeout, json_object(status), json_object(extra)))
end
