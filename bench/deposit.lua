-- wrk script for bench/http_ab.py: POST a 3-line deposit with a unique Idempotency-Key per request.
-- Environment: WB_TOKEN (operator bearer token), WB_MEMBERS (comma-separated member numbers),
-- WB_RUN (a prefix unique to this round).
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  token = os.getenv("WB_TOKEN")
  run = os.getenv("WB_RUN")
  members = {}
  for m in string.gmatch(os.getenv("WB_MEMBERS"), "[^,]+") do table.insert(members, m) end
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token,
             ["X-Forwarded-Proto"] = "https"}
end

function request()
  n = n + 1
  headers["Idempotency-Key"] = string.format("%s-%d-%d", run, tid, n)
  local member = members[(n * 7 + tid) % #members + 1]
  local body = '{"member":"' .. member .. '","lines":[{"category":"PET-CLEAN","quantity":"1,5"},' ..
               '{"category":"CARDBOARD","quantity":"2"},{"category":"HDPE-RIGID","quantity":"0,75"}]}'
  return wrk.format("POST", "/api/v1/deposits", headers, body)
end
