-- wrk script for benchmarks/loadgen.py: replay pre-built raw HTTP requests, spread threads over several targets,
-- count answers by status and kind, and write the figures as JSON.
--
-- Configuration comes from the environment (wrk's setup() runs before any argument reaches the threads):
--   LOADGEN_REQUESTS  file of records "<byte length>\n<raw HTTP/1.1 request>"; thread k of n replays records
--                     k+1, k+1+n, k+1+2n, … in a loop (each its own slice, so no two threads send the same one)
--   LOADGEN_TARGETS   "host:port,host:port": thread k connects to target k mod count
--   LOADGEN_OUT       where done() writes the JSON summary
--   LOADGEN_THINK_MS  optional think time per connection (see delay() below); LOADGEN_THINK_CAP_MS its cap

local targets = {}
for target in string.gmatch(os.getenv("LOADGEN_TARGETS") or "", "[^,]+") do
  table.insert(targets, target)
end
local threads = {}

function setup(thread)
  local index = #threads
  local host, port = string.match(targets[index % #targets + 1], "^(.+):(%d+)$")
  thread.addr = wrk.lookup(host, port)[1]
  thread:set("tid", index)
  thread:set("nthreads", tonumber(os.getenv("LOADGEN_THREADS")))
  table.insert(threads, thread)
end

local records, position, count = {}, 0, 0
sent, wraps = 0, 0
statuses, kinds = {}, {encrypted = 0, success = 0, other = 0}

local function load_slice(path, tid, nthreads)
  local file = assert(io.open(path, "rb"))
  local data = file:read("*a")
  file:close()
  local at, index = 1, 0
  while at <= #data do
    local newline = string.find(data, "\n", at, true)
    if not newline then break end
    local length = tonumber(string.sub(data, at, newline - 1))
    if index % nthreads == tid then
      table.insert(records, string.sub(data, newline + 1, newline + length))
    end
    index = index + 1
    at = newline + 1 + length
  end
end

function init(args)
  load_slice(os.getenv("LOADGEN_REQUESTS"), tid, nthreads)
  count = #records
  assert(count > 0, "no requests for thread " .. tid)
  math.randomseed(os.time() * 100 + tid)
end

-- LOADGEN_THINK_MS > 0: each connection waits a random (exponential) think time before each request, so the
-- load is an offered rate (about connections / (think + latency)) instead of as fast as the server answers.
-- The draw is capped below the servers' keep-alive timeout (gunicorn: 2 s), or idle connections would be closed
-- under wrk and counted as read errors; loadgen.py corrects the mean for the cap. The first request of each
-- connection goes at once: gunicorn's gthread worker parks a thread on a new connection until its first bytes
-- arrive (up to 5 s), so new connections left idle would stall the others and show up as a start-up tail.
local think_ms = tonumber(os.getenv("LOADGEN_THINK_MS") or "0") or 0
local think_cap_ms = tonumber(os.getenv("LOADGEN_THINK_CAP_MS") or "1500") or 1500
local immediate = nil  -- first requests still to send at once in this thread (one per connection)
if think_ms > 0 then
  function delay()
    immediate = immediate or math.floor(tonumber(os.getenv("LOADGEN_CONNECTIONS")) / nthreads)
    if immediate > 0 then
      immediate = immediate - 1
      return 0
    end
    return math.floor(math.min(-math.log(1 - math.random()) * think_ms, think_cap_ms))
  end
end

function request()
  position = position + 1
  if position > count then
    position = 1
    wraps = wraps + 1
  end
  sent = sent + 1
  return records[position]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    if string.find(body, "<Encrypt>", 1, true) then
      kinds.encrypted = kinds.encrypted + 1
    elseif body == "success" or body == "" then
      kinds.success = kinds.success + 1   -- no reply in time: Linli answers later through the outbox
    else
      kinds.other = kinds.other + 1       -- an H5 page, or a plain (unencrypted) reply
    end
  end
end

local function json_object(map)
  local parts = {}
  for key, value in pairs(map) do
    table.insert(parts, string.format('"%s": %s', tostring(key), tostring(value)))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, requests)
  local all_statuses, all_kinds = {}, {encrypted = 0, success = 0, other = 0}
  local total_sent, total_wraps, records_per_thread = 0, 0, {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      all_statuses[status] = (all_statuses[status] or 0) + n
    end
    for kind, n in pairs(thread:get("kinds") or {}) do
      all_kinds[kind] = all_kinds[kind] + n
    end
    total_sent = total_sent + (thread:get("sent") or 0)
    total_wraps = total_wraps + (thread:get("wraps") or 0)
  end
  local errors = summary.errors
  local ms = function(us) return string.format("%.3f", us / 1000) end
  local out = assert(io.open(os.getenv("LOADGEN_OUT"), "w"))
  out:write("{\n")
  out:write(string.format('  "duration_s": %.3f,\n', summary.duration / 1e6))
  out:write(string.format('  "requests": %d,\n  "bytes": %d,\n  "sent": %d,\n  "wraps": %d,\n',
                          summary.requests, summary.bytes, total_sent, total_wraps))
  out:write(string.format('  "socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d},\n',
                          errors.connect, errors.read, errors.write, errors.timeout))
  out:write(string.format('  "status_errors": %d,\n', errors.status))
  out:write('  "statuses": ' .. json_object(all_statuses) .. ',\n')
  out:write('  "bodies": ' .. json_object(all_kinds) .. ',\n')
  out:write(string.format('  "latency_ms": {"p50": %s, "p90": %s, "p99": %s, "p999": %s, "max": %s, "mean": %s, "stdev": %s}\n',
                          ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
                          ms(latency:percentile(99.9)), ms(latency.max), ms(latency.mean), ms(latency.stdev)))
  out:write("}\n")
  out:close()
end
