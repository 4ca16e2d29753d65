"""Ratings out and in (issue 17 item 6), the core on fakes: the export in keyset batches,
and the import's matching (id, else exact title), its buckets and its rejections."""

from __future__ import annotations

import pytest

from movierater_core.errors import NotFound, PermissionDenied
from movierater_core.model import User
from movierater_core.use_cases import SYSTEM
from movierater_core.use_cases.exports import RatingExport, RatingImport
from tests.unit.fakes import App, make_app


def _world() -> tuple[App, User, User]:
    app = make_app()
    admin = app.accounts.register({"username": "admin", "password": "admin-passphrase-1"}, is_admin=True)
    alice = app.accounts.register({"username": "alice", "password": "alice-passphrase-1"})
    return app, admin, alice


def test_every_rating_comes_in_batches_by_id_or_by_movie() -> None:
    app, admin, alice = _world()
    movies = [app.movies.create_movie(admin, {"title": f"M{n}"}) for n in range(7)]
    for movie in reversed(movies):  # rating ids in the opposite order of movie ids
        app.ratings.rate_movie(alice, movie.id, {"stars": 3})
        app.ratings.rate_movie(admin, movie.id, {"stars": 4})
    export = RatingExport(app.db, batch=3)
    everyone = list(export.every_rating(SYSTEM))
    assert [r.id for r in everyone] == sorted(r.id for r in app.db.state.ratings.values())
    mine = list(export.every_rating(SYSTEM, "alice"))
    assert [r.movie_id for r in mine] == [m.id for m in movies]
    assert {(r.username, r.stars.value) for r in mine} == {("alice", 3)}
    assert mine[0].title == "M0"
    with pytest.raises(NotFound):
        list(export.every_rating(SYSTEM, "nobody"))
    with pytest.raises(PermissionDenied):
        list(export.every_rating(alice))


def test_import_matches_by_id_else_title_and_reports_every_row() -> None:
    app, admin, alice = _world()
    heat = app.movies.create_movie(admin, {"title": "Heat"})
    alien = app.movies.create_movie(admin, {"title": "Alien"})
    twins = [app.movies.create_movie(admin, {"title": "Twin"}) for _ in range(2)]
    app.ratings.rate_movie(alice, alien.id, {"stars": 2})
    rows = [
        ("row 1", {"movie": heat.id, "title": "Heat", "stars": 5}),  # added, by id
        ("row 2", {"title": "Alien", "stars": 4}),  # changed, by title
        ("row 3", {"movie": 999, "title": "Heat", "stars": 5}),  # id unknown, title known: already (row 1)
        ("row 4", {"movie": heat.id, "title": "Alien", "stars": 4}),  # id's title differs: by title
        ("row 5", {"title": "Twin", "stars": 1}),
        ("row 6", {"movie": twins[1].id, "stars": 1}),
        ("row 7", {"title": "Nope", "stars": 1}),
        ("row 8", {"movie": 999, "stars": 1}),
        ("row 9", {"stars": 1}),
        ("row 10", {"title": "Heat", "stars": 6}),
        ("row 11", {"title": "Heat", "stars": "5"}),
        ("row 12", ["not", "an", "object"]),
        ("row 13", {"movie": heat.id, "title": "Other", "stars": 3}),
    ]
    tally = RatingImport(app.db, app.ratings).run(SYSTEM, rows, username="alice")
    assert (tally.added, tally.updated, tally.already) == (2, 1, 2)
    assert {p.where: p.reason for p in tally.rejected} == {
        "row 5": "title: 2 movies are titled 'Twin': give the movie's id.",
        "row 7": "title: no movie is titled 'Nope'.",
        "row 8": "movie: no movie has id 999.",
        "row 9": "movie: Give the movie's id or its title.",
        "row 10": "stars: Ensure this value is less than or equal to 5.",
        "row 11": "stars: A valid integer is required.",
        "row 12": "non_field_errors: Invalid data. Expected a dictionary, but got list.",
        "row 13": "movie: movie 1 is titled 'Heat', not 'Other', and no movie is titled 'Other'.",
    }
    stars = {(r.user_id, r.movie_id): r.stars.value for r in app.db.state.ratings.values()}
    assert stars == {(alice.id, heat.id): 5, (alice.id, alien.id): 4, (alice.id, twins[1].id): 1}
    again = RatingImport(app.db, app.ratings).run(SYSTEM, rows, username="alice")
    assert (again.added, again.updated, again.already, len(again.rejected)) == (0, 0, 5, 8)


def test_import_for_everyone_needs_each_rows_user() -> None:
    app, admin, alice = _world()
    heat = app.movies.create_movie(admin, {"title": "Heat"})
    rows = [
        ("line 2", {"username": "alice", "movie": heat.id, "stars": 3}),
        ("line 3", {"username": "admin", "title": "Heat", "stars": 1}),
        ("line 4", {"username": "bob", "title": "Heat", "stars": 1}),
        ("line 5", {"title": "Heat", "stars": 1}),
    ]
    tally = RatingImport(app.db, app.ratings).run(SYSTEM, rows)
    assert tally.added == 2
    assert [(p.where, p.reason) for p in tally.rejected] == [
        ("line 4", "username: no user named 'bob'."),
        ("line 5", "username: This field is required (or import for one user: --user)."),
    ]
    assert app.movies.get_movie(alice, heat.id).ratings.count == 2
    with pytest.raises(NotFound):
        RatingImport(app.db, app.ratings).run(SYSTEM, rows, username="nobody")
