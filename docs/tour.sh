#!/usr/bin/env bash
# A tour of the API with curl, every kind of request once, in an order that works: run it
# against a running service (`./scripts/serve`, an admin made, `source .venv/bin/activate`):
#     ADMIN_PASSWORD=... docs/tour.sh     (else it asks for the admin's password)
# Each step names the status it expects and stops the tour if another comes back. It
# cleans up after itself (alice and her movie are deleted at the end), so it runs again.
set -euo pipefail
API=${API:-http://127.0.0.1:8000}
ADMIN_USERNAME=${ADMIN_USERNAME:-admin}
if [ -z "${ADMIN_PASSWORD:-}" ]; then read -rsp "$ADMIN_USERNAME's password: " ADMIN_PASSWORD && echo; fi
JSON='Content-Type: application/json'
WORK=$(mktemp -d) && trap 'rm -rf "$WORK"' EXIT

# step STATUS METHOD URL [CURL-OPTIONS...]: one request; prints its status and answer
# (a JSON one kept in $BODY) and stops the tour unless the status is STATUS.
step() {
  local expected=$1 method=$2 url=$3 status type shown
  shift 3
  read -r status type < <(curl -s -o "$WORK/answer" -w '%{http_code} %{content_type}\n' -X "$method" "$url" "$@")
  if [[ ${type:-} == application/json* ]]; then BODY=$(cat "$WORK/answer"); else BODY="(${type:-no body})"; fi
  shown=${url#"$API"}
  echo "$method ${shown%%\?*} -> $status ${BODY:0:200}"
  if [ "$status" != "$expected" ]; then echo "tour stopped: expected $expected" >&2 && exit 1; fi
}
# get KEY...: a value from the last answer (KEY a name, or a number in a list); an
# object comes out as "name: value" lines, as curl's -H takes them.
get() {
  python3 -c 'import json, sys
value = json.loads(sys.argv[1])
for key in sys.argv[2:]:
    value = value[int(key)] if isinstance(value, list) else value[key]
print("\n".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else value)
' "$BODY" "$@"
}

# ---- accounts: register (open), then log in for a token
step 201 POST $API/api/users/ -H "$JSON" -d '{"username": "alice", "password": "a long passphrase"}'
# -> {"id": 12, "username": "alice"}
ALICE=$(get id)
step 200 POST $API/auth/ -H "$JSON" -d '{"username": "alice", "password": "a long passphrase"}'
AUTH="Authorization: Token $(get token)"    # "Bearer <token>" is accepted too
# the admin made by `movierater createsuperuser` logs in the same way
step 200 POST $API/auth/ -H "$JSON" -d "{\"username\": \"$ADMIN_USERNAME\", \"password\": \"$ADMIN_PASSWORD\"}"
ADMIN="Authorization: Token $(get token)"
step 401 GET $API/api/movies/                # no token

# ---- movies: any signed-in user reads, admins write
step 200 GET $API/api/movies/ -H "$AUTH"
# -> [{"id": 1, "title": "Movie 0", "description": "...", "imagePath": null, "no_of_ratings": 5, "ave_ratings": 3.2, "score": 3.04, "histogram": [1, 0, 2, 1, 1]}, ...]
step 403 POST $API/api/movies/ -H "$AUTH" -H "$JSON" -d '{"title": "Alien", "description": "In space."}'
step 201 POST $API/api/movies/ -H "$ADMIN" -H "$JSON" -d '{"title": "Alien", "description": "In space."}'
MOVIE=$(get id)
step 200 GET $API/api/movies/$MOVIE/ -H "$AUTH"
step 200 PUT $API/api/movies/$MOVIE/ -H "$ADMIN" -H "$JSON" -d '{"title": "Alien", "description": "No one hears."}'
step 200 PATCH $API/api/movies/$MOVIE/ -H "$ADMIN" -H "$JSON" -d '{"imagePath": "https://example.com/alien.jpg"}'

# ---- rate (create or update), read, delete
step 200 POST $API/api/movies/$MOVIE/rate_movie/ -H "$AUTH" -H "$JSON" -d '{"stars": 4}'
# -> {"message": "Rating created!", "result": {"id": 101, "stars": 4, "user": 12, "movie": 21,
#     "created": "2026-12-03T15:00:00.123456Z", "changed": "2026-12-03T15:00:00.123456Z"}}
RATING=$(get result id)
step 200 POST $API/api/movies/$MOVIE/rate_movie/ -H "$AUTH" -H "$JSON" -d '{"stars": 5}'   # "Rating updated!"
step 200 GET "$API/api/movies/$MOVIE/?include=my_rating" -H "$AUTH"   # the list takes it too
# -> {"id": 21, "title": "Alien", ..., "ave_ratings": 5.0, "my_rating": 5}   (null: not rated by you)
step 400 POST $API/api/movies/$MOVIE/rate_movie/ -H "$AUTH" -H "$JSON" -d '{}'
# -> {"message": "You need to provide stars"}
step 400 POST $API/api/movies/$MOVIE/rate_movie/ -H "$AUTH" -H "$JSON" -d '{"stars": "five"}'
# -> {"stars": ["A valid integer is required."]}
step 200 GET "$API/api/ratings/?movie=$MOVIE" -H "$AUTH"    # also ?user=ID, or no filter
step 200 GET "$API/api/ratings/?user=me" -H "$AUTH"         # the signed-in user's own
step 200 GET "$API/api/ratings/?since=2026-12-03T15:00:00Z" -H "$AUTH"   # changed since: by changed, id
step 200 GET "$API/api/movies/?ordering=-score" -H "$AUTH"  # the honest ranking (Bayesian average)
step 200 GET $API/api/ratings/$RATING/ -H "$AUTH"
step 204 DELETE $API/api/ratings/$RATING/ -H "$AUTH"        # its owner or an admin, else 403
step 200 POST $API/api/movies/$MOVIE/rate_movie/ -H "$AUTH" -H "$JSON" -d '{"stars": 3}'   # "Rating created!"
step 204 DELETE $API/api/movies/$MOVIE/rate_movie/ -H "$AUTH"   # un-rate: removes your rating

# ---- a poster: ask for an upload URL, send the bytes there, use it
FILE=$WORK/poster.png    # any PNG; here a small one of a random colour, made with Pillow
python3 -c 'import os, sys; from PIL import Image; Image.new("RGB", (8, 8), tuple(os.urandom(3))).save(sys.argv[1])' "$FILE"
SIZE=$(stat -c %s "$FILE") && HASH=$(sha256sum "$FILE" | cut -d' ' -f1)
# 1. ask (fileHash: hex SHA-256 of the file; optional, and needs fileSize)
step 200 POST $API/api/movies/get_upload_url/ -H "$AUTH" -H "$JSON" \
     -d "{\"filename\": \"poster.png\", \"contentType\": \"image/png\", \"fileSize\": $SIZE, \"fileHash\": \"$HASH\"}"
# -> {"upload_url": "...", "method": "PUT", "headers": {"Content-Type": "image/png", ...},
#     "fields": {}, "key": "media/movies/<hash>.png", "public_url": "...", "max_size_mb": 5,
#     "uploads_remaining": 9, "deduplicated": false, "expires_in": 3600}
UPLOAD_URL=$(get upload_url) && PUBLIC_URL=$(get public_url)
HEADERS=() && while IFS= read -r header; do HEADERS+=(-H "$header"); done < <(get headers)
# 2. send the bytes where it says, with exactly the headers it lists
step 201 PUT "$UPLOAD_URL" "${HEADERS[@]}" --data-binary @"$FILE"
# 3. use it: the server reads the object's first 64 KiB and checks it is really a PNG
step 200 PATCH $API/api/movies/$MOVIE/ -H "$ADMIN" -H "$JSON" -d "{\"imagePath\": \"$PUBLIC_URL\"}"
step 200 GET "$PUBLIC_URL"

# ---- users: admins list everyone, others only themself; one is read, changed, deleted by itself or an admin
step 200 GET $API/api/users/ -H "$AUTH"                     # alice's token: [{"id": ..., "username": "alice"}]
step 200 GET $API/api/users/$ALICE/ -H "$AUTH"
step 200 GET $API/api/users/me/ -H "$AUTH"                  # whoever the token belongs to
# -> {"id": 12, "username": "alice", "is_admin": false, "date_joined": "2026-12-03T13:05:00.123456Z"}
step 200 PATCH $API/api/users/$ALICE/ -H "$AUTH" -H "$JSON" -d '{"password": "another passphrase"}'
#    (revokes alice's other tokens; this one stays)

# ---- log out: revokes the token used
step 204 DELETE $API/auth/ -H "$AUTH"
step 401 GET $API/api/movies/ -H "$AUTH"
# log in again, then delete the account: with its ratings and tokens
step 200 POST $API/auth/ -H "$JSON" -d '{"username": "alice", "password": "another passphrase"}'
AUTH="Authorization: Token $(get token)"
step 204 DELETE $API/api/users/$ALICE/ -H "$AUTH"
step 401 GET $API/api/movies/ -H "$AUTH"

# ---- the admin deletes the movie (its ratings go too) and logs out
step 204 DELETE $API/api/movies/$MOVIE/ -H "$ADMIN"
step 404 GET $API/api/movies/$MOVIE/ -H "$ADMIN"
step 204 DELETE $API/auth/ -H "$ADMIN"
