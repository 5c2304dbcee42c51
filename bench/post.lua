-- wrk script: POST the GraphQL request in the file named by $BODY_FILE, as the bearer of
-- $TOKEN when it is set. With $EXPECT and $EXPECT_COUNT set, an answer must also hold
-- the text $EXPECT exactly $EXPECT_COUNT times (say, `"title"` 10 times for 10 events).
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

local expect = os.getenv("EXPECT")
local expect_count = tonumber(os.getenv("EXPECT_COUNT") or "")

local function occurrences(body, text)
  local count, from = 0, 1
  while true do
    local at = string.find(body, text, from, true)
    if not at then
      return count
    end
    count = count + 1
    from = at + #text
  end
end

failures = 0
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true)
    or (expect and expect_count and occurrences(body, expect) ~= expect_count) then
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
