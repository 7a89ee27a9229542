-- Logins of the bench user. Each request comes from its own client address (sent as
-- X-Forwarded-For; the bench server trusts one proxy hop), so the bench measures the
-- hashing ceiling, not one client's share of the hashing queue.
local counter = 0

function request()
    counter = counter + 1
    return wrk.format("POST", "/api/v1/auth/login", {
        ["Content-Type"] = "application/json",
        ["X-Forwarded-For"] = string.format("10.99.%d.%d", math.floor(counter / 250) % 250, counter % 250),
    }, '{"email":"bench@example.com","password":"secret123"}')
end
