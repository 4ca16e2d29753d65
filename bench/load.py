#!/usr/bin/env python3
"""Drive a running movierater (or any server with the same API) with wrk and print
requests/s, latency percentiles and non-2xx counts per scenario, as JSON.

The server must hold benchmark data made by `movierater seed` (movies 1..MOVIES, users
user0.. with the seed password). Needs `wrk` (Debian: apt-get install wrk).

    python3 bench/load.py http://127.0.0.1:8000 --movies 200 --seconds 10 --connections 16
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

LUA = r"""
local tokens = {%(tokens)s}
local movies = %(movies)d
local kind = "%(kind)s"
local n = 0
request = function()
  n = n + 1
  local headers = {["Authorization"] = "Token " .. tokens[(n %% #tokens) + 1],
                   ["Content-Type"] = "application/json"}
  local id = math.random(1, movies)
  if kind == "list" then
    return wrk.format("GET", "/api/movies/", headers)
  elseif kind == "detail" then
    return wrk.format("GET", "/api/movies/" .. id .. "/", headers)
  else
    return wrk.format("POST", "/api/movies/" .. id .. "/rate_movie/", headers,
                      '{"stars": ' .. math.random(1, 5) .. '}')
  end
end
done = function(summary, latency, requests)
  io.write(string.format("P50_US %%d\nP99_US %%d\n", latency:percentile(50), latency:percentile(99)))
end
"""


def log_in(base: str, username: str, password: str) -> str:
    request = urllib.request.Request(
        base.rstrip("/") + "/auth/",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.load(response)["token"])


def run(base: str, kind: str, tokens: list[str], args: argparse.Namespace) -> dict[str, object]:
    script = LUA % {"tokens": ", ".join(f'"{t}"' for t in tokens), "movies": args.movies, "kind": kind}
    return run_wrk(base, script, connections=args.connections, seconds=args.seconds)


def run_wrk(base: str, script: str, *, connections: int, seconds: int) -> dict[str, object]:
    """wrk with a Lua ``script`` that writes P50_US/P99_US when done: requests/s, latency
    percentiles and non-2xx count."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", fh.name, base],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(fh.name)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": int(re.search(r"P50_US (\d+)", out).group(1)) / 1000,  # type: ignore[union-attr]
        "p99_ms": int(re.search(r"P99_US (\d+)", out).group(1)) / 1000,  # type: ignore[union-attr]
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base")
    parser.add_argument("--movies", type=int, default=200)
    parser.add_argument("--users", type=int, default=32, help="how many seeded users to log in as")
    parser.add_argument("--password", default="bench-password-1")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--scenarios", default="list,detail,rate")
    args = parser.parse_args()
    tokens = [log_in(args.base, f"user{i}", args.password) for i in range(args.users)]
    results = {}
    for kind in args.scenarios.split(","):
        results[kind] = run(args.base, kind, tokens, args)
        print(kind, results[kind], file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
