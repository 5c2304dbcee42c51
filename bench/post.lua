-- wrk script: POST the GraphQL request in the file named by $BODY_FILE.
local file = assert(io.open(os.getenv("BODY_FILE"), "r"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/graphql-response+json"

-- Count answers that are not 200 or carry GraphQL errors, so a fast error never passes
-- for a fast answer.
local failures = 0
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("failed answers: %d\n", failures))
end
