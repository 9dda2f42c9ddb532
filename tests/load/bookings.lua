-- Bookings as a booking client makes them: the windows of a day at an
-- address, a hold on one of them, then the booking with an Idempotency-Key.
-- One connection a thread (the three steps are a conversation).
-- With OTD_CHURN=1 the customer then cancels through their link, so the
-- calendar stays as full as it was (the soak's steady state).
dofile(os.getenv("OTD_LOAD_LUA") .. "/common.lua")
local rows, dates, auth, run
local n, step, hold, address, vtype, link = 0, "slots", nil, nil, nil, nil
local churn = os.getenv("OTD_CHURN") == "1"

function init(args)
  rows = read_rows(os.getenv("OTD_LOAD_DATA") .. "/addresses.tsv")
  dates = read_rows(os.getenv("OTD_LOAD_DATA") .. "/dates.tsv")
  auth = "Bearer " .. os.getenv("OTD_TOKEN")
  run = os.getenv("OTD_RUN") or "r"
  n = thread_no * 15485863
end

local windows = {}

function request()
  n = n + 1
  if step == "hold" then
    local w = windows[n % #windows + 1]
    return wrk.format("POST", "/api/v1/holds", {["Authorization"] = auth,
                      ["Content-Type"] = "application/json"},
                      string.format('{"address":%s,"visit_type":%s,"window_start":"%s"}',
                                    address, vtype, w))
  elseif step == "cancel" then
    return wrk.format("POST", "/api/v1/a/" .. link .. "/cancel",
                      {["Content-Type"] = "application/json"}, '{"reason":"load test churn"}')
  elseif step == "book" then
    return wrk.format("POST", "/api/v1/appointments", {["Authorization"] = auth,
                      ["Content-Type"] = "application/json",
                      ["Idempotency-Key"] = string.format("%s-%d-%d", run, thread_no, n)},
                      string.format('{"hold":"%s","name":"Load Client %d","email":' ..
                                    '"load%d-%d@example.org","consent":{"email":true,' ..
                                    '"sms":false}}', hold, n, thread_no, n))
  end
  local a = rows[n % #rows + 1]
  address, vtype = a[1], a[2]
  local d = dates[n % #dates + 1][1]
  return wrk.format("GET", "/api/v1/slots?visit_type=" .. vtype .. "&address=" .. address ..
                    "&from=" .. d .. "&to=" .. d, {["Authorization"] = auth})
end

function response(status, headers, body)
  if step == "slots" then
    note(status)
    windows = {}
    if status == 200 then
      for s in string.gmatch(body, '"start":"([^"]+Z)"') do windows[#windows + 1] = s end
    end
    if #windows > 0 then step = "hold" end
  elseif step == "hold" then
    hold = status == 201 and string.match(body, '"hold":"([^"]+)"') or nil
    note(status, status == 201 and "held" or nil)
    step = hold and "book" or "slots"
  elseif step == "book" then
    note(status, status == 201 and "confirmed" or nil)
    link = status == 201 and string.match(body, '"path":"/a/([^"]+)"') or nil
    step = (churn and link) and "cancel" or "slots"
  else
    note(status, status == 200 and "cancelled" or nil)
    step = "slots"
  end
end
