-- wrk script: POST the GraphQL request in the file named by $BODY_FILE, as the bearer of
-- $TOKEN when it is set.
local file = assert(io.open(os.getenv("BODY_FILE"), "r"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/graphql-response+json"
local token = os.getenv("TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

-- Count answers that are not 200 or carry GraphQL errors, so a fast error never passes
-- for a fast answer. Each thread counts in its own Lua state; done() adds them up.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

failures = 0
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("failures")
  end
  io.write(string.format("failed answers: %d of %d\n", total, summary.requests))
end
