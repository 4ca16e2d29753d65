"""The unit of work (``Database``): commit, rollback, what a block sees, and that a read
cannot write, alike on the in-memory fake and on SqlDatabase over every backend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from movierater_core import ports
from movierater_core.errors import UsernameTaken
from movierater_core.model import MovieFields, Stars, SummaryDelta
from movierater_core.ports import Database, ImportRecord

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Boom(Exception):
    pass


def test_a_writing_block_commits_when_it_ends(db: Database) -> None:
    with db.writing() as repos:
        ann = repos.users.add("ann", "h")
    with db.reading() as repos:
        assert repos.users.get(ann.id) == ann


def test_a_writing_block_that_raises_leaves_nothing(db: Database) -> None:
    with db.writing() as repos:
        kept = repos.users.add("kept", "h")
        kept_movie = repos.movies.add(MovieFields(title="Kept"))
    with pytest.raises(Boom), db.writing() as repos:
        ann = repos.users.add("ann", "h")
        movie = repos.movies.add(MovieFields(title="Alien"))
        repos.ratings.add(ann.id, movie.id, Stars(5), at=T0)
        repos.movies.adjust_ratings(movie.id, SummaryDelta.added(Stars(5)))
        repos.movies.adjust_ratings(kept_movie.id, SummaryDelta.added(Stars(5)))
        repos.movies.update(kept_movie.id, MovieFields(title="Changed"))
        repos.users.rename(kept.id, "renamed")
        repos.tokens.add("a" * 64, ann.id, T0)
        repos.grants.add(ann.id, "obj", T0)
        repos.images.mark_verified("a.png", T0)
        repos.attempts.add("key", T0)
        repos.imports.add("user", [("1", ImportRecord(ann.id, "f"))], T0)
        raise Boom
    with db.reading() as repos:
        assert repos.users.list() == [kept]
        assert repos.movies.list() == [kept_movie]
        assert repos.ratings.list() == []
        assert repos.tokens.user_for("a" * 64) is None
        assert repos.grants.granted_after(ann.id, datetime(2000, 1, 1, tzinfo=UTC)) == []
        assert not repos.images.is_verified("a.png")
        assert repos.attempts.since("key", datetime(2000, 1, 1, tzinfo=UTC)) == []
        assert repos.imports.find("user", ["1"]) == {}


def test_a_domain_error_inside_a_writing_block_propagates_as_itself_and_rolls_back(db: Database) -> None:
    """As a use case lets ``UsernameTaken`` out of its block: the earlier writes go too."""
    with db.writing() as repos:
        repos.users.add("ann", "h")
    with pytest.raises(UsernameTaken), db.writing() as repos:
        repos.movies.add(MovieFields(title="Alien"))
        repos.users.add("ann", "h")
    with db.reading() as repos:
        assert repos.movies.list() == []


def test_a_block_sees_its_own_writes(db: Database) -> None:
    with db.writing() as repos:
        ann = repos.users.add("ann", "h")
        movie = repos.movies.add(MovieFields(title="Alien"))
        assert repos.users.get(ann.id) == ann
        rating = repos.ratings.add(ann.id, movie.id, Stars(3), at=T0)
        assert repos.ratings.find(ann.id, movie.id) == rating


def test_a_read_inside_a_writing_block_sees_only_what_was_committed(db: Database) -> None:
    """Blocks are separate transactions, also when one is opened inside another."""
    with db.writing() as repos:
        before = repos.movies.add(MovieFields(title="Before"))
    with db.writing() as repos:
        repos.movies.add(MovieFields(title="Pending"))
        with db.reading() as reader:
            assert reader.movies.list() == [before]
    with db.reading() as repos:
        assert [m.title for m in repos.movies.list()] == ["Before", "Pending"]


def test_reads_see_what_was_committed_after_an_earlier_read(db: Database) -> None:
    with db.reading() as repos:
        assert repos.movies.list() == []
    with db.writing() as repos:
        movie = repos.movies.add(MovieFields(title="Alien"))
    with db.reading() as repos:
        assert repos.movies.list() == [movie]


def test_ping(db: Database) -> None:
    db.ping()


# ---- reading() is read-only -------------------------------------------------------------

SECTIONS = {
    "users": (ports.UserReader, ports.UserRepository),
    "movies": (ports.MovieReader, ports.MovieRepository),
    "ratings": (ports.RatingReader, ports.RatingRepository),
    "tokens": (ports.TokenReader, ports.TokenRepository),
    "grants": (ports.UploadGrantReader, ports.UploadGrantRepository),
    "images": (ports.ImageReader, ports.ImageRepository),
    "attempts": (ports.AttemptReader, ports.AttemptRepository),
    "imports": (ports.ImportRecordReader, ports.ImportRecordRepository),
}


def _methods(protocol: type) -> set[str]:
    return {name for klass in protocol.__mro__ for name in vars(klass) if not name.startswith("_")}


WRITES = sorted(
    (section, name)
    for section, (reader, full) in SECTIONS.items()
    for name in _methods(full) - _methods(reader)
)
READS = sorted((section, name) for section, (reader, _full) in SECTIONS.items() for name in _methods(reader))


def test_every_repository_has_reads_and_writes() -> None:
    assert {section for section, _ in WRITES} == set(SECTIONS) == {section for section, _ in READS}
    assert set(SECTIONS) == {name for name in vars(ports.Repositories) if not name.startswith("_")}


@pytest.mark.parametrize("section, method", WRITES, ids=[f"{s}.{m}" for s, m in WRITES])
def test_reading_hands_out_no_write_method(db: Database, section: str, method: str) -> None:
    with db.reading() as repos:
        with pytest.raises(AttributeError, match="read-only"):
            getattr(getattr(repos, section), method)
    with db.writing() as repos:
        assert callable(getattr(getattr(repos, section), method))


@pytest.mark.parametrize("section, method", READS, ids=[f"{s}.{m}" for s, m in READS])
def test_reading_hands_out_every_read_method(db: Database, section: str, method: str) -> None:
    with db.reading() as repos:
        assert callable(getattr(getattr(repos, section), method))
