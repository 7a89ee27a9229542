-- The refresh rotation flow: every thread owns one session and presents the cookie
-- the previous response set, so each request really rotates (no grace answers).
local cookies = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("cookie", cookies_from_file()[counter])
end

function cookies_from_file()
    if #cookies == 0 then
        for line in io.lines(os.getenv("BENCH_COOKIES")) do
            cookies[#cookies + 1] = line
        end
    end
    return cookies
end

function request()
    return wrk.format("POST", "/api/v1/auth/refresh", { ["Cookie"] = "refreshToken=" .. cookie, ["Content-Length"] = "0" })
end

function response(status, headers, body)
    local header = headers["Set-Cookie"] or headers["set-cookie"]
    if status == 200 and header then
        cookie = string.match(header, "refreshToken=([^;]+)")
    end
end
