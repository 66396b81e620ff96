-- POST /api/v1/appointments, each request a new citizen (email, address, Idempotency-Key)
-- at the next start of this thread's share of the starts file; round n begins n halves
-- of the share in, so the two rounds of a full run book distinct starts too.
-- Arguments: starts-file location service threads run-tag
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local starts, counter, offset = {}, 0, 0
local location, service, run

init = function(args)
  location, service, run = args[2], args[3], args[5]
  local total, i = tonumber(args[4]), 0
  for line in io.lines(args[1]) do
    if i % total == tid then starts[#starts + 1] = line end
    i = i + 1
  end
  offset = (tonumber(string.sub(run, 2)) or 0) * math.floor(#starts / 2)
end

local function address(n)
  return string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
end

request = function()
  counter = counter + 1
  local id = tid * 1000000 + counter
  local start = starts[(counter - 1 + offset) % #starts + 1]
  local body = string.format(
    '{"location":"%s","services":["%s"],"start":"%s","name":"Bench Citizen",' ..
    '"email":"c%d.%s@example.org","language":"de"}', location, service, start, id, run)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = run .. "-" .. id,
    ["X-Forwarded-For"] = address(id),
  }
  return wrk.format("POST", "/api/v1/appointments", headers, body)
end
