-- Logout of this device only (scope=local), again and again with one access token:
-- the token stays valid (access tokens are stateless until they expire), so every
-- request does the whole logout.
function request()
    return wrk.format("POST", "/api/v1/auth/logout?scope=local",
        { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"), ["Content-Length"] = "0" })
end
