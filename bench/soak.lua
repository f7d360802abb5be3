-- wrk script for bench/soak.sh: cycles over the requests in a file, all of
-- which must answer one status, and counts the answers that do not.
--
--   wrk ... -s bench/soak.lua URL -- <expected status> <requests file>
--
-- Each line of the file is "METHOD /path" or "/path" (GET); "{n}" in a path
-- becomes a request counter, so that misses name a new module each time.
-- Not HEAD: wrk waits for the body its Content-Length announces.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    expected = tonumber(args[1])
    reqs = {}
    for line in io.lines(args[2]) do
        local method, path = line:match("^(%u+) (/.*)$")
        table.insert(reqs, { method or "GET", path or line })
    end
    i, n, unexpected, seen = 0, 0, 0, ""
end

function request()
    i = i % #reqs + 1
    n = n + 1
    local path = reqs[i][2]:gsub("{n}", tostring(n))
    return wrk.format(reqs[i][1], path)
end

function response(status, headers, body)
    if status ~= expected then
        unexpected = unexpected + 1
        if #seen < 200 and not seen:find(" " .. status .. " ", 1, true) then
            seen = seen .. " " .. status .. " "
        end
    end
end

function done(summary, latency, requests)
    local bad, statuses = 0, ""
    for _, t in ipairs(threads) do
        bad = bad + t:get("unexpected")
        statuses = statuses .. t:get("seen")
    end
    local e = summary.errors
    io.write(string.format(
        "SOAK requests=%d unexpected=%d statuses=[%s] connect=%d read=%d write=%d timeout=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
        summary.requests, bad, statuses:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""),
        e.connect, e.read, e.write, e.timeout,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
