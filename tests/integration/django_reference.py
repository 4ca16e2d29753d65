"""A database made by Django itself: the DRF reference service (``MOVIERATER_DRF_REFERENCE``,
by default ``/work/shared/bench/drf_reference`` or ``../shared/bench/drf_reference`` next
to this repository) migrates a SQLite file and fills it through Django's own API.

Nothing of the reference is copied here: it is run, as the original would be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.backends import backends_required

REPO = Path(__file__).resolve().parents[2]
CANDIDATES = [Path("/work/shared/bench/drf_reference"), REPO.parent / "shared" / "bench" / "drf_reference"]
PASSWORDS = {"alice": "alice-django-pass", "staffer": "staff-django-pass", "root": "root-django-pass"}

# Runs in `manage.py shell`: users (a staff user, a superuser, one without a usable
# password), DRF tokens, movies (a NULL and a long imagePath, a repeated title), ratings;
# then prints what Django itself answers for them.
POPULATE = """
import json
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from refapi.models import Movie, Rating
from refapi.serializers import MovieSerializer

alice = User.objects.create_user("alice", password="alice-django-pass")
staffer = User.objects.create_user("staffer", password="staff-django-pass", is_staff=True)
root = User.objects.create_superuser("root", "root@example.com", "root-django-pass")
bob = User.objects.create_user("bob")  # no password: Django makes it unusable
tokens = {u.username: Token.objects.create(user=u).key for u in (alice, staffer, root)}
titanic = Movie.objects.create(title="Titanic", description="A ship.", imagePath="https://img.example/t.jpg")
Movie.objects.create(title="No poster", description="", imagePath=None)
long_url = "https://images.example.com/posters/" + "p" * 150 + ".jpg"
long = Movie.objects.create(title="Long URL", description="long", imagePath=long_url)
Movie.objects.create(title="Titanic", description="The 1953 one.", imagePath="")
for user, movie, stars in [(alice, titanic, 5), (staffer, titanic, 2), (root, titanic, 4),
                           (alice, long, 1), (bob, long, 3)]:
    Rating.objects.create(user=user, movie=movie, stars=stars)
movies = json.loads(json.dumps(MovieSerializer(Movie.objects.order_by("id"), many=True).data))
print(json.dumps({"tokens": tokens, "movies": movies}))
"""


@dataclass(frozen=True)
class DjangoDatabase:
    path: Path
    tokens: dict[str, str]  # username -> DRF token key
    movies: list[dict[str, object]]  # what Django's MovieSerializer answers, by id

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


def locate_reference() -> Path | None:
    configured = os.environ.get("MOVIERATER_DRF_REFERENCE")
    for candidate in [Path(configured)] if configured else CANDIDATES:
        if (candidate / "manage.py").is_file():
            return candidate
    return None


def make_django_database(directory: Path) -> DjangoDatabase:
    reference = locate_reference()
    if reference is None:
        reason = (
            f"the DRF reference service is not at {os.environ.get('MOVIERATER_DRF_REFERENCE') or CANDIDATES}"
        )
        if backends_required():
            pytest.fail(reason + " (MOVIERATER_REQUIRE_BACKENDS=1)")
        pytest.skip(reason + ": set MOVIERATER_DRF_REFERENCE")
    path = directory / "django.sqlite3"
    env = {**os.environ, "REF_DB": str(path), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py sets the reference's own

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=reference, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    manage("migrate", "-v0")
    made = json.loads(manage("shell", "-c", POPULATE).strip().splitlines()[-1])
    return DjangoDatabase(path, made["tokens"], made["movies"])
