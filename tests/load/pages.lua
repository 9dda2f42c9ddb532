-- Customer page reads: the HTML page and the JSON view of an appointment,
-- by its link token, in turn.
dofile(os.getenv("OTD_LOAD_LUA") .. "/common.lua")
local tokens
local n = 0

function init(args)
  tokens = read_rows(os.getenv("OTD_LOAD_DATA") .. "/tokens.tsv")
  n = thread_no * 104729
end

function request()
  n = n + 1
  local t = tokens[n % #tokens + 1][1]
  if n % 2 == 0 then
    return wrk.format("GET", "/a/" .. t)
  end
  return wrk.format("GET", "/api/v1/a/" .. t)
end

function response(status, headers, body)
  note(status)
end
