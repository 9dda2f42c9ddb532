-- Slot queries: one address and visit type a request, a day or two of windows.
dofile(os.getenv("OTD_LOAD_LUA") .. "/common.lua")
local rows, dates, auth
local n = 0

function init(args)
  rows = read_rows(os.getenv("OTD_LOAD_DATA") .. "/addresses.tsv")
  dates = read_rows(os.getenv("OTD_LOAD_DATA") .. "/dates.tsv")
  auth = "Bearer " .. os.getenv("OTD_TOKEN")
  n = thread_no * 7919
end

function request()
  n = n + 1
  local a = rows[n % #rows + 1]
  local d = dates[n % #dates + 1][1]
  return wrk.format("GET", "/api/v1/slots?visit_type=" .. a[2] .. "&address=" .. a[1] ..
                    "&from=" .. d .. "&to=" .. d, {["Authorization"] = auth})
end

function response(status, headers, body)
  note(status)
end
