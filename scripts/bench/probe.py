"""A light latency probe: GET a URL every `interval` seconds over its own keep-alive
connection for `duration` seconds, then print p50/p99 in ms. Light enough not to
steal the CPU it is measuring (unlike a closed-loop wrk)."""
import http.client
import sys
import time

host, port, path, token, duration, interval = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6])
# A seventh argument "cookie": POST with the token as the refresh cookie (a refresh probe).
as_cookie = len(sys.argv) > 7 and sys.argv[7] == "cookie"
connection = http.client.HTTPConnection(host, port, timeout=30)
latencies, errors = [], 0
end = time.monotonic() + duration
while time.monotonic() < end:
    started = time.monotonic()
    try:
        if as_cookie:
            connection.request("POST", path, headers={"Cookie": "refreshToken=" + token, "Content-Length": "0"})
        else:
            connection.request("GET", path, headers={"Authorization": "Bearer " + token})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            errors += 1
    except Exception:
        errors += 1
        connection = http.client.HTTPConnection(host, port, timeout=30)
    latencies.append((time.monotonic() - started) * 1000)
    time.sleep(max(0.0, interval - (time.monotonic() - started)))
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0
print("PROBE requests=%d p50_ms=%.3f p99_ms=%.3f errors=%d" % (len(latencies), pick(0.50), pick(0.99), errors))
