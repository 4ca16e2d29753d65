"""Entities and value objects: immutable attrs classes that cannot hold an invalid state."""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import field, frozen

from movierater_core.missing import MISSING, Missing

MIN_STARS = 1
MAX_STARS = 5


def _is_exact_int(value: object) -> bool:
    # bool is a subclass of int, but `true` is not a number of stars.
    return isinstance(value, int) and not isinstance(value, bool)


def _check_stars(_instance: object, _attribute: object, value: int) -> None:
    if not _is_exact_int(value) or not MIN_STARS <= value <= MAX_STARS:
        raise ValueError(f"stars must be an int from {MIN_STARS} to {MAX_STARS}, got {value!r}")


@frozen
class Stars:
    """A rating value: exactly one of the ints 1..5."""

    value: int = field(validator=_check_stars)


@frozen
class RatingSummary:
    """How many ratings a movie has and the sum of their stars.

    Kept as two integers (never a float average) so that concurrent changes can be
    applied as deltas by storage, and the average is exact to compute.
    """

    count: int = 0
    total: int = 0

    def __attrs_post_init__(self) -> None:
        # One check for both fields (listing movies builds one summary per movie).
        if not (self.count >= 0 and MIN_STARS * self.count <= self.total <= MAX_STARS * self.count):
            raise ValueError(f"total {self.total} impossible for {self.count} ratings")

    @property
    def average(self) -> float | int:
        """Mean stars; ``0`` (an int, as the original answered) when there are no ratings."""
        return self.total / self.count if self.count else 0

    def added(self, stars: Stars) -> RatingSummary:
        return RatingSummary(self.count + 1, self.total + stars.value)

    def changed(self, old: Stars, new: Stars) -> RatingSummary:
        return RatingSummary(self.count, self.total - old.value + new.value)

    def removed(self, stars: Stars) -> RatingSummary:
        return RatingSummary(self.count - 1, self.total - stars.value)


@frozen
class User:
    id: int
    username: str
    is_admin: bool = False


@frozen
class Profile:
    """A user as they see themself (``GET /api/users/me/``): who they are, whether they
    are an admin, and when they joined (timezone-aware; Django's ``date_joined`` for
    imported users)."""

    id: int
    username: str
    is_admin: bool
    date_joined: datetime


@frozen
class Movie:
    id: int
    title: str
    description: str
    image_path: str | None
    ratings: RatingSummary = RatingSummary()


@frozen
class MovieView:
    """A movie as one user sees it (``?include=my_rating``): with their own stars, or None
    where they have not rated it."""

    movie: Movie
    my_stars: Stars | None


@frozen
class UserView:
    """A user as an admin's list shows them with ``?include=is_admin``: with their role."""

    user: User


@frozen
class MovieFields:
    """Validated values for creating or updating a movie. A field that is ``MISSING`` was not
    given: a new movie gets the default (no description, no image), an update leaves it as
    it is. ``image_path=None`` removes the image."""

    title: str | Missing = MISSING
    description: str | Missing = MISSING
    image_path: str | None | Missing = MISSING

    def new_movie(self) -> tuple[str, str, str | None]:
        """(title, description, image_path) of a new movie, defaults filled in."""
        if self.title is MISSING:
            raise ValueError("a new movie needs a title")
        description = "" if self.description is MISSING else self.description
        return self.title, description, None if self.image_path is MISSING else self.image_path

    def changes(self) -> dict[str, str | None]:
        """The fields given, by attribute name: what an update changes."""
        given = {"title": self.title, "description": self.description, "image_path": self.image_path}
        return {name: value for name, value in given.items() if value is not MISSING}


@frozen
class Rating:
    """A user's stars for a movie; ``created`` and ``changed`` (timezone-aware UTC): when it
    was made and when its stars last changed, None for ratings imported from the Django
    original (which kept no such times)."""

    id: int
    user_id: int
    movie_id: int
    stars: Stars
    created: datetime | None = None
    changed: datetime | None = None


@frozen
class ExportedRating:
    """A rating as an export writes it: with its movie's title and its user's name, so that
    a file read elsewhere (or by a person) says what was rated and by whom."""

    id: int
    user_id: int
    username: str
    movie_id: int
    title: str
    stars: Stars


class MovieSort(enum.Enum):
    """What a list of movies can be ordered by: the names of the answer's fields."""

    ID = "id"
    TITLE = "title"
    RATINGS = "no_of_ratings"
    AVERAGE = "ave_ratings"


@frozen
class MovieOrder:
    """An order of movies (``?ordering=``): by a field, ascending or descending; movies
    that tie on it come by id, in the same direction, so that every order is total and
    stable, ``-x`` is exactly ``x`` reversed, and one index on (field, id) serves both."""

    by: MovieSort = MovieSort.ID
    descending: bool = False

    @property
    def name(self) -> str:
        """As ``?ordering=`` spells it: ``title``, ``-ave_ratings``."""
        return ("-" if self.descending else "") + self.by.value

    @classmethod
    def every(cls) -> tuple[MovieOrder, ...]:
        return tuple(cls(by, descending) for by in MovieSort for descending in (False, True))
