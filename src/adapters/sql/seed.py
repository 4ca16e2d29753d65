"""Bulk demo/benchmark data, straight into the tables (idempotent by natural keys).

Users ``user0..user{N-1}`` share one password hash (hashed once: argon2 is slow on
purpose); movies are ``Movie 0..Movie {N-1}``; movie *m* gets ratings from users
``(m * 7 + j) % users`` for ``j < ratings_per_movie``, with deterministic stars.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from movierater_adapters.sql.tables import movies, ratings, users
from sqlalchemy import Connection, Engine, func, insert, select, update

T = TypeVar("T")
BATCH = 2_000


def seed(
    engine: Engine,
    *,
    movie_count: int,
    user_count: int,
    ratings_per_movie: int,
    password_hash: str,
    progress: Callable[[int], None] = lambda _n: None,
) -> dict[str, int]:
    """Insert what is missing; returns how many rows of each kind were added."""
    if ratings_per_movie > user_count:
        raise ValueError("ratings per movie cannot exceed the number of users")
    added = {"users": 0, "movies": 0, "ratings": 0}
    now = datetime.now(UTC)
    with engine.begin() as conn:
        known = set(conn.scalars(select(users.c.username)))
        new_users = [
            {"username": f"user{i}", "password_hash": password_hash, "is_admin": False, "date_joined": now}
            for i in range(user_count)
            if f"user{i}" not in known
        ]
        for batch in _batches(new_users):
            conn.execute(insert(users), batch)
            progress(len(batch))
        added["users"] = len(new_users)

        titles = set(conn.scalars(select(movies.c.title)))
        new_movies: list[dict[str, object]] = [
            {
                "title": f"Movie {m}",
                "description": f"Description of movie {m}",
                "image_path": None,
                "rating_count": 0,
                "rating_sum": 0,
            }
            for m in range(movie_count)
            if f"Movie {m}" not in titles
        ]
        for batch in _batches(new_movies):
            conn.execute(insert(movies), batch)
            progress(len(batch))
        added["movies"] = len(new_movies)

        user_ids = dict(conn.execute(select(users.c.username, users.c.id)).all())
        movie_ids = dict(conn.execute(select(movies.c.title, movies.c.id)).all())
        rated = set(conn.execute(select(ratings.c.user_id, ratings.c.movie_id)).tuples())
        new_ratings = []
        for m in range(movie_count):
            movie_id = movie_ids[f"Movie {m}"]
            for j in range(ratings_per_movie):
                user_id = user_ids[f"user{(m * 7 + j) % user_count}"]
                if (user_id, movie_id) not in rated:
                    stars = 1 + (m * 31 + j * 17) % 5
                    new_ratings.append({"user_id": user_id, "movie_id": movie_id, "stars": stars})
        for batch in _batches(new_ratings):
            conn.execute(insert(ratings), batch)
            progress(len(batch))
        added["ratings"] = len(new_ratings)
        if new_ratings:
            recount_summaries(conn)
    return added


def recount_summaries(conn: Connection) -> None:
    """Set every movie's rating count, sum and histogram from the ratings table (one statement)."""
    count = select(func.count()).where(ratings.c.movie_id == movies.c.id).scalar_subquery()
    total = (
        select(func.coalesce(func.sum(ratings.c.stars), 0))
        .where(ratings.c.movie_id == movies.c.id)
        .scalar_subquery()
    )
    histogram = {
        f"star_{n}": select(func.count())
        .where(ratings.c.movie_id == movies.c.id, ratings.c.stars == n)
        .scalar_subquery()
        for n in range(1, 6)
    }
    conn.execute(update(movies).values(rating_count=count, rating_sum=total, **histogram))


def _batches(rows: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]
