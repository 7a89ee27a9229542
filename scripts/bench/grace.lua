-- The refresh grace path: the same spent token, presented again within
-- REFRESH_REUSE_INTERVAL of its rotation, gets a new access token and the session's
-- current refresh token (read session and user, sign two tokens; nothing written).
function request()
    return wrk.format("POST", "/api/v1/auth/refresh",
        { ["Cookie"] = "refreshToken=" .. os.getenv("BENCH_GRACE_COOKIE"), ["Content-Length"] = "0" })
end
