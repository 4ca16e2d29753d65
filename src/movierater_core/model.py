"""Entities and value objects: immutable attrs classes that cannot hold an invalid state."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Final

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


STAR_VALUES: Final = tuple(range(MIN_STARS, MAX_STARS + 1))
NO_STARS: Final = (0,) * len(STAR_VALUES)


@frozen
class SummaryDelta:
    """A change of a movie's summary that storage adds to it in one atomic statement
    (``SET n = n + :delta``): to the count, to the total of stars, and to how many ratings
    have each number of stars (``stars[0]``: one star ... ``stars[4]``: five). Computed here,
    once, for every writer: a rating, a change of stars, a removal, an import's batch."""

    count: int = 0
    total: int = 0
    stars: tuple[int, ...] = NO_STARS

    @classmethod
    def added(cls, stars: Stars) -> SummaryDelta:
        return cls(1, stars.value, _one_hot(stars, 1))

    @classmethod
    def removed(cls, stars: Stars) -> SummaryDelta:
        return cls(-1, -stars.value, _one_hot(stars, -1))

    @classmethod
    def changed(cls, old: Stars, new: Stars) -> SummaryDelta:
        return cls.removed(old) + cls.added(new)

    def __add__(self, other: SummaryDelta) -> SummaryDelta:
        return SummaryDelta(
            self.count + other.count,
            self.total + other.total,
            tuple(a + b for a, b in zip(self.stars, other.stars, strict=True)),
        )


def _one_hot(stars: Stars, n: int) -> tuple[int, ...]:
    return tuple(n if value == stars.value else 0 for value in STAR_VALUES)


@frozen
class RatingSummary:
    """How many ratings a movie has, the sum of their stars, and how many have each number
    of stars (the histogram: ``histogram[0]`` one star ... ``histogram[4]`` five).

    Kept as integers (never a float average) so that concurrent changes can be applied as
    deltas by storage, and the average and score are exact to compute. The histogram
    always agrees with the count and the sum: a summary that does not cannot be made.
    """

    count: int = 0
    total: int = 0
    histogram: tuple[int, ...] = NO_STARS

    def __attrs_post_init__(self) -> None:
        # One check for all fields (listing movies builds one summary per movie): unpacking
        # demands exactly five counts, each must be >= 0, they must add up to the count and,
        # weighted by their stars, to the total.
        h1, h2, h3, h4, h5 = self.histogram
        if not (
            h1 >= 0
            and h2 >= 0
            and h3 >= 0
            and h4 >= 0
            and h5 >= 0
            and h1 + h2 + h3 + h4 + h5 == self.count
            and h1 + 2 * h2 + 3 * h3 + 4 * h4 + 5 * h5 == self.total
        ):
            raise ValueError(
                f"total {self.total}, histogram {self.histogram} impossible for {self.count} ratings"
            )

    @classmethod
    def of(cls, stars: Iterable[int]) -> RatingSummary:
        """The summary of these ratings (star values), counted."""
        values = list(stars)
        return cls(len(values), sum(values), tuple(values.count(v) for v in STAR_VALUES))

    @property
    def average(self) -> float | int:
        """Mean stars; ``0`` (an int, as the original answered) when there are no ratings."""
        return self.total / self.count if self.count else 0

    def score(self, prior: ScorePrior) -> float:
        """The Bayesian average ``(C*m + total) / (m + count)``: the movie's mean pulled
        towards the catalogue's mean ``C`` as if it had ``m`` more ratings of that mean, so
        that a movie with one five-star rating does not outrank one with hundreds of fours.
        Exactly the database's arithmetic for ``?ordering=score`` (``ScorePrior.total`` is
        computed once, here; then one addition and one division in doubles)."""
        return prior.scoring()(self.count, self.total)

    def moved(self, delta: SummaryDelta) -> RatingSummary:
        return RatingSummary(
            self.count + delta.count,
            self.total + delta.total,
            tuple(a + b for a, b in zip(self.histogram, delta.stars, strict=True)),
        )

    def added(self, stars: Stars) -> RatingSummary:
        return self.moved(SummaryDelta.added(stars))

    def changed(self, old: Stars, new: Stars) -> RatingSummary:
        return self.moved(SummaryDelta.changed(old, new))

    def removed(self, stars: Stars) -> RatingSummary:
        return self.moved(SummaryDelta.removed(stars))


def _check_weight(_instance: object, _attribute: object, value: int) -> None:
    if not _is_exact_int(value) or value < 1:
        raise ValueError(f"the prior's weight must be an int of at least 1, got {value!r}")


@frozen
class ScorePrior:
    """What a score pulls each movie's mean towards: the catalogue's mean stars ``mean``
    (``C``), as if each movie had ``weight`` (``m``, at least 1) more ratings of it."""

    mean: float
    weight: int = field(validator=_check_weight)

    @property
    def total(self) -> float:
        """``C*m``: the stars the prior adds."""
        return self.mean * self.weight

    def scoring(self) -> Callable[[int, int], float]:
        """``RatingSummary.score`` as a function of (count, total), the prior's numbers
        bound once: what a list of movies calls per movie."""
        prior_total, weight = self.total, self.weight
        return lambda count, total: (prior_total + total) / (weight + count)

    @classmethod
    def of(cls, catalogue: RatingSummary, weight: int) -> ScorePrior:
        """The prior of a catalogue (every movie's ratings summed): its mean (0 without
        ratings, as an average is)."""
        return cls(float(catalogue.average), weight)


NO_PRIOR: Final = ScorePrior(0.0, 1)  # what a page not ordered by score is given


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
    SCORE = "score"


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
