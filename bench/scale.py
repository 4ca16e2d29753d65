#!/usr/bin/env python3
"""Lists at scale (issue 12, item 6): latency of paged, ordered and searched lists over a large
catalogue, and of a movie's detail while six clients pull the largest pages allowed, by offset
and by cursor (the ratings' ?cursor=, made here with the core's own Keyset as a server's next
link carries it: needs the project's environment).

The server must hold data made by `movierater seed` (bench/scale.sh makes it: 100,000 movies,
5,000,000 ratings). Prints one JSON object; needs `wrk`.

    python3 bench/scale.py http://127.0.0.1:18200 --movies 100000 --ratings 5000000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import log_in, run_wrk  # noqa: E402

from movierater_core.use_cases.ratings import BY_ID  # noqa: E402

CURSORS = 2000  # random positions in the ratings a pull by cursor continues from

# Each scenario: Lua that returns the path of the next request (math.random is seeded per run).
SCENARIOS = {
    # The first page by rating, as a "top rated" view asks for it.
    "page_by_rating": 'return "/api/movies/?ordering=-ave_ratings&limit=50"',
    # A random page of the same order, anywhere in the first 100 pages.
    "page_by_rating_deeper": 'return "/api/movies/?ordering=-ave_ratings&limit=50&offset=" .. 50 * math.random(0, 99)',
    # A title search ("Movie 4821" and every title containing 4821), 50 at most.
    "search": 'return "/api/movies/?search=" .. math.random(1000, 9999) .. "&limit=50"',
    "last_movie_page_by_offset": 'return "/api/movies/?limit=50&offset=" .. (movies - 50)',
    "last_rating_page_by_offset": 'return "/api/ratings/?limit=50&offset=" .. (ratings - 50)',
    # The same page by cursor: after rating (ratings - 50), as the previous page's next link says.
    "last_rating_page_by_cursor": 'return "/api/ratings/?limit=50&cursor=" .. last_cursor',
    "detail": 'return "/api/movies/" .. math.random(1, movies) .. "/"',
    # The largest page allowed, from anywhere in the ratings.
    "largest_rating_pages": 'return "/api/ratings/?limit=" .. max_page .. "&offset=" .. math.random(0, ratings - max_page)',
    # The same pulls by cursor: each continues after a random rating (a client paging along).
    "largest_rating_pages_by_cursor": 'return "/api/ratings/?limit=" .. max_page .. "&cursor=" .. cursors[math.random(1, #cursors)]',
}

LUA = r"""
local token = "%(token)s"
local movies, ratings, max_page = %(movies)d, %(ratings)d, %(max_page)d
local last_cursor = "%(last_cursor)s"
local cursors = {%(cursors)s}
local function path() %(path)s end
request = function()
  return wrk.format("GET", path(), {["Authorization"] = "Token " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format("P50_US %%d\nP99_US %%d\n", latency:percentile(50), latency:percentile(99)))
end
"""


def wrk(base: str, scenario: str, token: str, args: argparse.Namespace, connections: int) -> dict[str, object]:
    # seeded ratings have the ids 1..ratings: a cursor after any of them is a page of max_page
    picks = random.Random(1).sample(range(args.ratings - args.max_page), CURSORS)
    script = LUA % {
        "token": token,
        "movies": args.movies,
        "ratings": args.ratings,
        "max_page": args.max_page,
        "last_cursor": BY_ID.cursor((args.ratings - 50,)),
        "cursors": ", ".join(f'"{BY_ID.cursor((rating_id,))}"' for rating_id in picks),
        "path": SCENARIOS[scenario],
    }
    return run_wrk(base, script, connections=connections, seconds=args.seconds)


def detail_under_pulls(
    base: str, token: str, args: argparse.Namespace, pulls_scenario: str = "largest_rating_pages"
) -> dict[str, object]:
    """The detail, on two connections, while six others pull the largest rating pages."""
    pulls: dict[str, object] = {}
    puller = threading.Thread(
        target=lambda: pulls.update(wrk(base, pulls_scenario, token, args, connections=6))
    )
    puller.start()
    detail = wrk(base, "detail", token, args, connections=2)
    puller.join()
    return {"detail": detail, "pulls": pulls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base")
    parser.add_argument("--movies", type=int, default=100_000)
    parser.add_argument("--ratings", type=int, default=5_000_000)
    parser.add_argument("--max-page", type=int, default=1000, help="the server's MOVIERATER_MAX_PAGE_SIZE")
    parser.add_argument("--password", default="bench-password-1")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4, help="for the single scenarios")
    parser.add_argument(
        "--only", default="", help="comma-separated scenario names to run (default: every one)"
    )
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    token = log_in(args.base, "user0", args.password)
    results: dict[str, object] = {}
    for scenario in (
        "page_by_rating",
        "page_by_rating_deeper",
        "search",
        "last_movie_page_by_offset",
        "last_rating_page_by_offset",
        "last_rating_page_by_cursor",
        "detail",  # alone: what the detail costs without the pulls
    ):
        if only and scenario not in only:
            continue
        results[scenario] = wrk(args.base, scenario, token, args, args.connections)
        print(scenario, results[scenario], file=sys.stderr)
    for name, pulls in (
        ("detail_under_six_largest_pulls", "largest_rating_pages"),
        ("detail_under_six_largest_pulls_by_cursor", "largest_rating_pages_by_cursor"),
    ):
        if only and name not in only:
            continue
        results[name] = detail_under_pulls(args.base, token, args, pulls)
        print(name, results[name], file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
