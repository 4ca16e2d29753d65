#!/usr/bin/env bash
# Seed a database, serve movierater on it with gunicorn, load it with wrk (bench/load.py),
# and print the results as JSON, with each gunicorn worker's resident memory afterwards.
#
#   source .venv/bin/activate            # movierater on PATH; apt-get install wrk
#   bench/run.sh                          # SQLite, 200 movies x 100 ratings, 2 workers
#   DB_URL=postgresql+psycopg://postgres@127.0.0.1:5432/movierater_bench bench/run.sh
#
# Environment: DB_URL (a fresh SQLite file by default; another database must be empty),
# MOVIES (200), USERS (2000), RATINGS_PER_MOVIE (100), WORKERS (2), PORT (18100),
# SECONDS (10), CONNECTIONS (16), SCENARIOS (list,detail,rate).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${BENCH_DIR:-/tmp/movierater-bench}
MOVIES=${MOVIES:-200}; USERS=${USERS:-2000}; RPM=${RATINGS_PER_MOVIE:-100}
WORKERS=${WORKERS:-2}; PORT=${PORT:-18100}; SECONDS_PER_RUN=$(printenv SECONDS || echo 10)  # bash's own $SECONDS counts from 0; CONNECTIONS=${CONNECTIONS:-16}
SCENARIOS=${SCENARIOS:-list,detail,rate}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
command -v movierater >/dev/null || { echo "activate the project's environment first" >&2; exit 2; }
mkdir -p "$work"

export MOVIERATER_DATABASE_URL=${DB_URL:-sqlite:///$work/bench.db}
if [ -z "${DB_URL:-}" ]; then rm -f "$work"/bench.db*; fi
movierater migrate >&2
movierater seed --movies "$MOVIES" --users "$USERS" --ratings-per-movie "$RPM" --password bench-password-1 >&2

movierater serve --port "$PORT" --workers "$WORKERS" >"$work/serve.log" 2>&1 &
master=$!
trap 'kill $master 2>/dev/null; wait $master 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/api/" && break; sleep 0.2; done

results=$(python3 "$here/load.py" "http://127.0.0.1:$PORT" --movies "$MOVIES" --seconds "$SECONDS_PER_RUN" \
  --connections "$CONNECTIONS" --scenarios "$SCENARIOS")
rss=$(ps --ppid "$master" -o rss= | paste -sd, -)
python3 - "$results" "$rss" "$MOVIERATER_DATABASE_URL" "$MOVIES" "$RPM" <<'PY'
import json, sys
results, rss, url, movies, rpm = sys.argv[1:]
print(json.dumps({
    "database": url.split(":", 1)[0], "movies": int(movies), "ratings": int(movies) * int(rpm),
    "scenarios": json.loads(results), "worker_rss_mib": [round(int(k) / 1024, 1) for k in rss.split(",") if k],
}))
PY
