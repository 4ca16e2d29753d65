#!/usr/bin/env bash
# What PostgreSQL alone allows a rating on this machine: pgbench runs a rating's own
# statements (the token read; BEGIN; the movie locked with the rater's rating; an UPDATE
# of the movie's summary; COMMIT) as prepared statements from C, with no app at all, with
# as many clients as the app has workers (one transaction in flight each) and with 16.
# A rate the app is asked for above the first figure is beyond its worker count here.
#
#   ../shared/bench/compare.sh with BENCH_PG first (it seeds bench_project), then
#   bench/pg_rate_floor.sh            # PG=postgres@127.0.0.1:5432 DB=bench_project SECONDS=10
#
# The database is left as it was: the UPDATE adds 0 to the summary (a new row version,
# written and flushed at COMMIT like a real rating's).
set -euo pipefail
PG=${PG:-postgres@127.0.0.1:5432}; DB=${DB:-bench_project}; SECONDS_PER_RUN=$(printenv SECONDS || echo 10)
url="postgresql://$PG/$DB"
pgbench=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1)
[ -x "$pgbench" ] || { echo "pgbench is missing (Debian: postgresql-client)" >&2; exit 2; }
digest=$(psql "$url" -Atc "select digest from tokens limit 1")
[ -n "$digest" ] || { echo "no token in $DB: run compare.sh with BENCH_PG first" >&2; exit 2; }
movies=$(psql "$url" -Atc "select max(id) from movies"); users=$(psql "$url" -Atc "select max(id) from users")
script=$(mktemp --suffix=.sql); trap 'rm -f "$script"' EXIT
cat >"$script" <<SQL
\set movie random(1, $movies)
\set rater random(1, $users)
SELECT users.id, users.username, users.is_admin, tokens.last_used FROM tokens JOIN users ON users.id = tokens.user_id WHERE tokens.digest = '$digest';
BEGIN;
SELECT movies.id, ratings.id, ratings.stars, ratings.created, ratings.changed FROM movies LEFT OUTER JOIN ratings ON ratings.movie_id = movies.id AND ratings.user_id = :rater WHERE movies.id = :movie FOR UPDATE OF movies;
UPDATE movies SET rating_count = rating_count + 0, rating_sum = rating_sum + 0 WHERE id = :movie;
COMMIT;
SQL
# CPU time (seconds) spent so far: by the whole machine (every core, all but idle and
# iowait), and by PostgreSQL's processes alone (server side of the transactions).
cpu_seconds() {
  python3 - <<'PY'
import os
tick = os.sysconf("SC_CLK_TCK")
fields = [int(v) for v in open("/proc/stat").readline().split()[1:]]
machine = (sum(fields[:8]) - fields[3] - fields[4]) / tick
server = 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
    if name.startswith("postgres"):
        # its own time and its reaped children's: pgbench's backends exit with the run
        server += sum(int(v) for v in rest[11:15]) / tick
print(f"{machine} {server}")
PY
}
cores=$(nproc)
for clients in "${WORKERS:-2}" 16; do
  read -r machine0 server0 < <(cpu_seconds)
  out=$("$pgbench" -n -M prepared -f "$script" -c "$clients" -j "$clients" -T "$SECONDS_PER_RUN" "$url")
  read -r machine1 server1 < <(cpu_seconds)
  tps=$(awk '/^tps = / {print $3}' <<<"$out")
  done_=$(awk '/number of transactions actually processed/ {print $NF}' <<<"$out" | cut -d/ -f1)
  # busy: the machine's cores in use; server_ms: PostgreSQL's CPU per transaction (what any
  # app's rating costs the database at least); a rating served over HTTP costs that plus
  # the ceiling app's CPU per request (compare.sh), so cores / (the sum) bounds the rate.
  python3 -c "
m = ($machine1 - $machine0) / $SECONDS_PER_RUN / $cores
s = ($server1 - $server0) * 1000 / $done_
print('{\"clients\": $clients, \"tps\": $tps, \"busy\": %.2f, \"server_ms_per_tx\": %.3f}' % (m, s))"
done
