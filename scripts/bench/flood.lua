-- A login flood: distinct unknown emails from FLOOD_ADDRESSES client addresses (sent as
-- X-Forwarded-For to a server with TRUST_PROXY=true), counting answers by status.
local threads = {}
local counter = 0
local addresses = tonumber(os.getenv("FLOOD_ADDRESSES") or "50")

function setup(thread)
    table.insert(threads, thread)
    thread:set("thread_number", #threads)
end

function init(args)
    statuses = {}
end

function request()
    counter = counter + 1
    local address = string.format("10.20.%d.%d", thread_number, counter % addresses)
    local body = string.format('{"email":"flood-%d-%d@example.com","password":"guess-guess"}', thread_number, counter)
    return wrk.format("POST", "/api/v1/auth/login",
        { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = address }, body)
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local total = {}
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("statuses")) do
            total[status] = (total[status] or 0) + count
        end
    end
    local parts = {}
    for status, count in pairs(total) do table.insert(parts, string.format("%d:%d", status, count)) end
    table.sort(parts)
    io.write(string.format("FLOOD requests=%d seconds=%.3f p99_ms=%.1f max_ms=%.1f timeouts=%d statuses=%s\n",
        summary.requests, summary.duration / 1e6, latency:percentile(99) / 1e3, latency.max / 1e3,
        summary.errors.timeout, table.concat(parts, ",")))
end
