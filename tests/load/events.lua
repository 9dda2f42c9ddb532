-- Visitor events from signed-in visitors: nine positions for one "late N"
-- tap, each visitor in turn, with a client event id of its own.
dofile(os.getenv("OTD_LOAD_LUA") .. "/common.lua")
local visitors, at, run
local n = 0

function init(args)
  visitors = read_rows(os.getenv("OTD_LOAD_DATA") .. "/visitors.tsv")
  at = os.getenv("OTD_AT")
  run = os.getenv("OTD_RUN") or "r"
  n = thread_no * 1000003
end

function request()
  n = n + 1
  local v = visitors[n % #visitors + 1]
  local headers = {["Cookie"] = "otd_session=" .. v[1], ["X-CSRF-Token"] = v[2],
                   ["Content-Type"] = "application/json"}
  local body
  if n % 10 == 0 then
    body = string.format('{"client_event_id":"%s-%d","type":"late","at":"%s","minutes":%d}',
                         run, n, at, 1 + n % 30)
  else
    local f = (n % 100) / 1000
    body = string.format('{"client_event_id":"%s-%d","type":"position","at":"%s",' ..
                         '"lat":%.6f,"lon":%.6f,"accuracy":%d}', run, n, at,
                         tonumber(v[3]) + f, tonumber(v[4]) + f, 5 + n % 20)
  end
  return wrk.format("POST", "/api/v1/visitor/events", headers, body)
end

function response(status, headers, body)
  note(status)
end
