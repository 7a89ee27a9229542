-- Registrations with an email no other request uses.
local counter = 0
local id = 0

function setup(thread)
    id = id + 1
    thread:set("id", id)
end

function request()
    counter = counter + 1
    local body = string.format('{"name":"Bench","email":"bench-%d-%d-%d@example.com","password":"secret123"}', os.time(), id, counter)
    return wrk.format("POST", "/api/v1/auth/register", { ["Content-Type"] = "application/json" }, body)
end
