-- Registrations with an email no other request uses: each thread has its own number
-- (given by setup, a global of the thread) and counts its own requests.
local threads = 0
local counter = 0

function setup(thread)
    threads = threads + 1
    thread:set("thread_number", threads)
end

function request()
    counter = counter + 1
    local body = string.format('{"name":"Bench","email":"bench-%d-%d-%d@example.com","password":"secret123"}',
        os.time(), thread_number, counter)
    -- Each registration from its own client address (see login.lua).
    local address = string.format("10.98.%d.%d", thread_number, counter % 250)
    return wrk.format("POST", "/api/v1/auth/register",
        { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = address }, body)
end
