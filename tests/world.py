"""The shared world of the HTTP tests: one admin, two users and a movie, reused across
tests (each test makes its own movies) to keep argon2 hashing off the suite's critical path.
The same for the in-process app (tests/unit/http) and gunicorn (tests/integration); only
the client differs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

# argon2id at one of OWASP's minimum pairs (19 MiB x 2) in the servers and commands the
# tests start: at the default cost (64 MiB x 3, five times the work) the suite's sign-ups
# and logins took about a third of its CPU. tests/unit/test_password_cost.py checks the
# default, and that a hash made at one cost is re-hashed at another.
CHEAP_PASSWORD_HASHING = {
    "MOVIERATER_PASSWORD_HASH_MEMORY_KIB": "19456",
    "MOVIERATER_PASSWORD_HASH_ITERATIONS": "2",
}


class _Answer(Protocol):
    status_code: int
    text: str

    def json(self) -> Any: ...


class SignedInClient(Protocol):
    user_id: int | None

    def get(self, path: str, **kw: Any) -> Any: ...

    def post(self, path: str, **kw: Any) -> Any: ...


C = TypeVar("C", bound=SignedInClient)


@dataclass
class World(Generic[C]):
    anon: C
    user: C
    other_user: C
    admin: C
    movie_id: int

    def alive(self) -> bool:
        return (
            self.admin.get(f"/api/movies/{self.movie_id}/").status_code == 200
            and self.user.get(f"/api/users/{self.user.user_id}/").status_code == 200
            and self.other_user.get(f"/api/users/{self.other_user.user_id}/").status_code == 200
        )

    def new_movie(self, **fields: Any) -> dict[str, Any]:
        body = {"title": "Alien", "description": "In space.", **fields}
        created: _Answer = self.admin.post("/api/movies/", json=body)
        assert created.status_code == 201, created.text
        return dict(created.json())
