-- GET /api/v1/users/me with the next token of BENCH_TOKENS (one per line) on every
-- request, in order, wrapping around: with a pool larger than the server's verified-
-- token cache, every request is a full signature verification.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
    tokens[#tokens + 1] = line
end
local index = 0

function request()
    index = index % #tokens + 1
    return wrk.format("GET", "/api/v1/users/me", { ["Authorization"] = "Bearer " .. tokens[index] })
end
