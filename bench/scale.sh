#!/usr/bin/env bash
# Lists at scale (issue 12, item 6): seed 100,000 movies and 5,000,000 ratings, serve them with
# `movierater serve`, and measure paged, ordered and searched lists and the detail under large
# pulls (bench/scale.py). Prints JSON.
#
#   source .venv/bin/activate; apt-get install wrk
#   bench/scale.sh                                                     # SQLite
#   DB_URL=postgresql+psycopg://postgres@127.0.0.1:5432/movierater_scale bench/scale.sh
#   SEED=0 bench/scale.sh --only last_rating_page_by_cursor,detail_under_six_largest_pulls_by_cursor
#
# Arguments are passed to bench/scale.py (--only: some scenarios).
# Environment: DB_URL (a SQLite file under BENCH_DIR by default; another database must exist),
# MOVIES (100000), RATINGS_PER_MOVIE (50), USERS (5000), WORKERS (2), PORT (18200),
# SECONDS (10), SEED (1; 0 reuses the data already there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${BENCH_DIR:-/tmp/movierater-scale}
MOVIES=${MOVIES:-100000}; RPM=${RATINGS_PER_MOVIE:-50}; USERS=${USERS:-5000}
WORKERS=${WORKERS:-2}; PORT=${PORT:-18200}; SECONDS_PER_RUN=$(printenv SECONDS || echo 10)  # bash's own $SECONDS counts from 0
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
command -v movierater >/dev/null || { echo "activate the project's environment first" >&2; exit 2; }
mkdir -p "$work"

export MOVIERATER_DATABASE_URL=${DB_URL:-sqlite:///$work/scale.db}
movierater migrate >&2
if [ "${SEED:-1}" = 1 ]; then
  movierater seed --movies "$MOVIES" --users "$USERS" --ratings-per-movie "$RPM" --password bench-password-1 >&2
fi
case "$MOVIERATER_DATABASE_URL" in
  # What autovacuum would have done by then on a live server: statistics and the visibility
  # map (index-only scans) after the bulk load.
  postgresql*) psql "$(echo "$MOVIERATER_DATABASE_URL" | sed 's/+psycopg//')" -qc "VACUUM ANALYZE" >&2 ;;
esac

movierater serve --port "$PORT" --workers "$WORKERS" >"$work/serve.log" 2>&1 &
master=$!
trap 'kill $master 2>/dev/null; wait $master 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done

python3 "$here/scale.py" "http://127.0.0.1:$PORT" --movies "$MOVIES" --ratings "$((MOVIES * RPM))" \
  --max-page "${MOVIERATER_MAX_PAGE_SIZE:-1000}" --seconds "$SECONDS_PER_RUN" "$@"
