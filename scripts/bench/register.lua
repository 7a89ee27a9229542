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
    return wrk.format("POST", "/api/v1/auth/register", { ["Content-Type"] = "application/json" }, body)
end
