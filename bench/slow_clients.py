"""Time /healthz and a movie detail on a running movierater while clients trickle their
headers, or a declared body, at one byte a second; print JSON: the latencies, and how long
after connecting (and with what) the server closed each slow client.

    source .venv/bin/activate; movierater serve --port 18100 &   # a movie, a user: seed
    python bench/slow_clients.py http://127.0.0.1:18100 --username user0 --password ...

What docs/deploy.md ("Slow clients") quotes. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import threading
import time
import urllib.request
from urllib.parse import urlsplit


def trickle(
    host: str, port: int, at_once: bytes, slowly: bytes, until: float, closed: dict[str, object], name: str
) -> None:
    sock = socket.create_connection((host, port))
    sock.settimeout(0.05)
    connected = time.monotonic()
    try:
        sock.sendall(at_once)
        for i in range(len(slowly)):
            sock.sendall(slowly[i : i + 1])
            second = time.monotonic() + 1
            while time.monotonic() < second:
                try:
                    data = sock.recv(1024)
                except TimeoutError:
                    continue
                closed[name] = [round(time.monotonic() - connected, 1), data[:12].decode("latin-1")]
                return
            if time.monotonic() > until:
                return
    except OSError:
        closed[name] = [round(time.monotonic() - connected, 1), "reset"]
    finally:
        sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("base")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--movie", type=int, default=1)
    parser.add_argument("--clients", type=int, default=4, help="of each kind (headers, body)")
    parser.add_argument("--seconds", type=float, default=15, help="how long to time the others")
    args = parser.parse_args()
    url = urlsplit(args.base)
    host, port = url.hostname or "127.0.0.1", url.port or 80

    login = urllib.request.Request(
        args.base + "/auth/",
        data=json.dumps({"username": args.username, "password": args.password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    token = json.load(urllib.request.urlopen(login, timeout=30))["token"]

    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    body_head = (
        f"POST /api/movies/{args.movie}/rate_movie/ HTTP/1.1\r\nHost: x\r\nAuthorization: Token {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 300\r\n\r\n"
    ).encode()
    until = time.monotonic() + args.seconds + 5
    closed: dict[str, object] = {}
    for i in range(args.clients):
        for name, at_once, slowly in ((f"headers{i}", b"", head), (f"body{i}", body_head, b" " * 300)):
            threading.Thread(
                target=trickle, args=(host, port, at_once, slowly, until, closed, name), daemon=True
            ).start()
    time.sleep(1.5)

    timings: dict[str, list[float]] = {"healthz": [], "detail": []}
    paths = {
        "healthz": ("/healthz", {}),
        "detail": (f"/api/movies/{args.movie}/", {"Authorization": f"Token {token}"}),
    }
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        for key, (path, headers) in paths.items():
            started = time.monotonic()
            urllib.request.urlopen(
                urllib.request.Request(args.base + path, headers=headers), timeout=120
            ).read()
            timings[key].append(time.monotonic() - started)
        time.sleep(0.2)
    time.sleep(max(0.0, until - time.monotonic()))
    result: dict[str, object] = {
        key: {
            "n": len(v),
            "median_ms": round(statistics.median(v) * 1000, 1),
            "max_ms": round(max(v) * 1000, 1),
        }
        for key, v in timings.items()
    }
    result["closed_after_s"] = dict(sorted(closed.items()))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
