#!/usr/bin/env python3
"""Revocation propagation between two instances: python3 propagation.py PORT_A PORT_B TRIALS

Each trial logs in on A, checks the token on B, waits a random part of a poll interval,
logs that session out on A, and then asks B every 2 ms until it answers 401 `Access token
revoked`. Prints `PROPAGATION trials=… p50_ms=… p99_ms=… max_ms=… failures=…`: from A's
204 to B's first 401."""
import json
import random
import sys
import time
import urllib.error
import urllib.request

A, B, TRIALS = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])


def call(port, method, path, body=None, token=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method, data=json.dumps(body).encode() if body else None
    )
    if body:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


credentials = {"email": "propagation@example.com", "password": "secret123"}
call(A, "POST", "/api/v1/auth/register", dict(credentials, name="Propagation"))
times, failures = [], 0
for _ in range(TRIALS):
    status, body = call(A, "POST", "/api/v1/auth/login", credentials)
    token = body.get("accessToken") if status == 200 else None
    if not token or call(B, "GET", "/api/v1/users/me", token=token)[0] != 200:
        failures += 1
        continue
    time.sleep(random.uniform(0, 0.5))
    if call(A, "POST", "/api/v1/auth/logout?scope=local", token=token)[0] != 204:
        failures += 1
        continue
    start = time.monotonic()
    while True:
        status, body = call(B, "GET", "/api/v1/users/me", token=token)
        if status != 200 or time.monotonic() - start > 5:
            break
        time.sleep(0.002)
    if status == 401 and body.get("message") == "Access token revoked":
        times.append((time.monotonic() - start) * 1000)
    else:
        failures += 1
times.sort()
pick = lambda q: times[min(len(times) - 1, int(len(times) * q))] if times else float("nan")
print(f"PROPAGATION trials={len(times)} p50_ms={pick(0.5):.1f} p99_ms={pick(0.99):.1f} max_ms={(times or [float('nan')])[-1]:.1f} failures={failures}")
