"""Movie bodies (``parse_movie`` and its field rules) and the movie use cases."""

from __future__ import annotations

import copy

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from movierater_core import rules
from movierater_core.errors import NotFound, PermissionDenied, PreconditionFailed, ValidationError
from movierater_core.model import Movie, MovieFields, RatingSummary, User
from movierater_core.use_cases.movies import parse_movie
from tests.unit.fakes import App, make_app

SIMPLE = settings(max_examples=200, deadline=None)

REQUIRED = "This field is required."
INVALID_URL = "Enter a valid URL."

TEXT_CHARS = st.one_of(
    st.sampled_from("abc XYZ 019 \t\n\r"),
    st.sampled_from(["\x00", "\u00a0", "é", "漢", "\u2028"]),
    st.characters(),
)
NON_STRINGS = st.one_of(
    st.integers(),
    st.floats(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


def text_field_ok(value: object, *, max_length: int, allow_blank: bool) -> bool:
    """DRF CharField(trim_whitespace=True): a str without NUL whose stripped form fits."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    stripped = value.strip()
    return (allow_blank or stripped != "") and len(stripped) <= max_length


def padded_text(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda pad_left, body, pad_right: pad_left + body + pad_right,
        st.text(st.sampled_from(" \t\n"), max_size=3),
        st.text(st.sampled_from("abcdefghij ."), min_size=min_size, max_size=max_size),
        st.text(st.sampled_from(" \t\n"), max_size=3),
    )


# ---- title and description ---------------------------------------------------------------


@SIMPLE
@given(st.one_of(st.text(TEXT_CHARS, max_size=20), padded_text(140, 160), NON_STRINGS, st.none()))
@example("")
@example("   ")
@example("a" * 150)
@example("a" * 151)
@example("  " + "a" * 150 + "  ")
@example("Alien\x00")
@example(None)
@example(3)
def test_title_accepted_iff_str_stripped_nonempty_short_no_nul(value: object) -> None:
    if text_field_ok(value, max_length=150, allow_blank=False):
        assert isinstance(value, str)
        assert rules.parse_title(value) == value.strip()
        fields = parse_movie({"title": value}, partial=False)
        assert fields.title == value.strip()
    else:
        with pytest.raises(rules.Invalid):
            rules.parse_title(value)
        with pytest.raises(ValidationError) as caught:
            parse_movie({"title": value}, partial=False)
        assert list(caught.value.errors) == ["title"]


@SIMPLE
@given(st.one_of(st.text(TEXT_CHARS, max_size=20), padded_text(350, 370), NON_STRINGS, st.none()))
@example("")
@example("a" * 360)
@example("a" * 361)
@example(" " * 400)
@example("x\x00")
def test_description_accepted_iff_str_no_nul_at_most_360(value: object) -> None:
    if text_field_ok(value, max_length=360, allow_blank=True):
        assert isinstance(value, str)
        assert rules.parse_description(value) == value.strip()
        fields = parse_movie({"title": "T", "description": value}, partial=False)
        assert fields.description == value.strip()
    else:
        with pytest.raises(ValidationError) as caught:
            parse_movie({"title": "T", "description": value}, partial=False)
        assert list(caught.value.errors) == ["description"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"title": ""}, {"title": ["This field may not be blank."]}),
        ({"title": "  "}, {"title": ["This field may not be blank."]}),
        ({"title": None}, {"title": ["This field may not be null."]}),
        ({"title": 5}, {"title": ["Not a valid string."]}),
        ({"title": "a\x00"}, {"title": ["Null characters are not allowed."]}),
        ({"title": "a" * 151}, {"title": ["Ensure this field has no more than 150 characters."]}),
        (
            {"title": "ok", "description": "d" * 361},
            {"description": ["Ensure this field has no more than 360 characters."]},
        ),
        ({"description": "x"}, {"title": [REQUIRED]}),
        ({}, {"title": [REQUIRED]}),
        (
            {"title": "", "imagePath": "ftp://x.org/a.png"},
            {"title": ["This field may not be blank."], "imagePath": [INVALID_URL]},
        ),
        ([], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ("x", {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}),
    ],
)
def test_parse_movie_errors(body: object, errors: dict[str, list[str]]) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_movie(body, partial=False)
    assert caught.value.errors == errors


def test_parse_movie_leaves_absent_fields_alone_on_put_and_patch() -> None:
    # As DRF: a field a PUT leaves out is not changed (the Angular client's PUT sends
    # title and description only, and must not erase the poster).
    assert parse_movie({"title": " Alien "}, partial=False) == MovieFields(title="Alien")
    assert parse_movie({}, partial=True) == MovieFields()
    assert parse_movie({"imagePath": None}, partial=True) == MovieFields(image_path=None)
    assert MovieFields(image_path=None) != MovieFields()  # null removes the image; absent keeps it
    assert parse_movie({"description": ""}, partial=True) == MovieFields(description="")


# ---- imagePath ---------------------------------------------------------------------------

LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
HOST = st.lists(LABEL, min_size=1, max_size=4).map(".".join)
PATH = st.from_regex(r"(?:/[A-Za-z0-9._~%-]{0,20}){0,8}", fullmatch=True)


@st.composite
def web_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(st.one_of(HOST, st.just("127.0.0.1"), st.just("[::1]")))
    port = draw(st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}")))
    query = draw(st.one_of(st.just(""), st.from_regex(r"\?[a-z]{1,5}=[a-z0-9]{0,5}", fullmatch=True)))
    return f"{scheme}://{host}{port}{draw(PATH)}{query}"


@SIMPLE
@given(web_urls(), st.text(st.sampled_from(" \t\n"), max_size=2))
@example("http://example.com", "")
@example("https://example.com/poster.png", "")
@example("http://" + "a" * 30 + ".com/" + "p" * 163, "")
def test_web_urls_accepted_up_to_200_characters(url: str, pad: str) -> None:
    value = pad + url + pad
    if len(url) <= 200:
        assert rules.parse_image_path(value) == url
        assert parse_movie({"title": "T", "imagePath": value}, partial=False).image_path == url
    else:
        with pytest.raises(rules.Invalid) as caught:
            rules.parse_image_path(value)
        assert caught.value.messages == ["Ensure this field has no more than 200 characters."]


def test_url_of_exactly_200_and_201_characters() -> None:
    base = "https://example.com/"
    at_limit = base + "x" * (200 - len(base))
    assert len(at_limit) == 200
    assert rules.parse_image_path(at_limit) == at_limit
    with pytest.raises(rules.Invalid):
        rules.parse_image_path(at_limit + "x")


@pytest.mark.parametrize("value", [None, ""])
def test_no_image(value: object) -> None:
    assert rules.parse_image_path(value) in (None, "")
    assert not parse_movie({"title": "T", "imagePath": value}, partial=False).image_path


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JavaScript://example.com/%0aalert(1)",
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "data:image/png;base64,AAAA",
        "not a url",
        "http://",
        "https://",
        "http:///path",
        "http://exa mple.com",
        "http://example.com/a b",
        "//example.com/a.png",
        "example.com/a.png",
        "/images/a.png",
        "http://example.com:99999/",
        "http://-bad-.com",
        "http://[not-ipv6]/",
        "http://example.com/\x7f",
        "http://exa_mple.com",
    ],
)
def test_invalid_urls_refused(value: str) -> None:
    with pytest.raises(rules.Invalid) as caught:
        rules.parse_image_path(value)
    assert caught.value.messages == [INVALID_URL]
    with pytest.raises(ValidationError) as caught_body:
        parse_movie({"title": "T", "imagePath": value}, partial=True)
    assert caught_body.value.errors == {"imagePath": [INVALID_URL]}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "Not a valid string."),
        (["http://a.com"], "Not a valid string."),
        ("http://a.com/\x00", "Null characters are not allowed."),
    ],
)
def test_image_path_type_errors(value: object, message: str) -> None:
    with pytest.raises(rules.Invalid) as caught:
        rules.parse_image_path(value)
    assert caught.value.messages == [message]


@SIMPLE
@given(st.text(max_size=40))
@example("http://a")
@example("HTTP://A.COM")
@example("http://a.com:80")
def test_any_accepted_image_path_is_an_http_url(value: str) -> None:
    try:
        parsed = rules.parse_image_path(value)
    except rules.Invalid as exc:
        assert len(exc.messages) == 1
        return
    assert parsed == value.strip()
    if parsed:
        assert parsed.lower().startswith(("http://", "https://"))
        assert len(parsed) <= 200
        assert not any(ch.isspace() or ord(ch) < 32 for ch in parsed)


# ---- use cases ---------------------------------------------------------------------------


def _world() -> tuple[App, User, User]:
    app = make_app()
    admin = app.accounts.register({"username": "root", "password": "correct horse 1230"}, is_admin=True)
    alice = app.accounts.register({"username": "alice", "password": "correct horse 1231"})
    return app, admin, alice


def test_create_and_read_movies() -> None:
    app, admin, alice = _world()
    movie = app.movies.create_movie(
        admin,
        {"title": " Alien ", "description": "In space...", "imagePath": "https://img.example/alien.jpg"},
    )
    assert (movie.title, movie.description, movie.image_path) == (
        "Alien",
        "In space...",
        "https://img.example/alien.jpg",
    )
    assert movie.ratings == RatingSummary()
    assert app.movies.get_movie(alice, movie.id) == movie
    plain = app.movies.create_movie(admin, {"title": "Heat"})
    assert (plain.description, plain.image_path) == ("", None)
    assert list(app.movies.list_movies(alice).items) == [movie, plain]


def test_non_admins_cannot_change_movies_and_nothing_changes() -> None:
    app, admin, alice = _world()
    movie = app.movies.create_movie(admin, {"title": "Alien"})
    app.ratings.rate_movie(alice, movie.id, {"stars": 4})
    before = copy.deepcopy(app.db.state)
    for attempt in (
        lambda: app.movies.create_movie(alice, {"title": "Mine"}),
        lambda: app.movies.create_movie(alice, {"title": ""}),  # permission comes first
        lambda: app.movies.update_movie(alice, movie.id, {"title": "Hacked"}, partial=False),
        lambda: app.movies.update_movie(alice, movie.id, {"title": "Hacked"}, partial=True),
        lambda: app.movies.update_movie(alice, 999, {"title": "Hacked"}, partial=True),
        lambda: app.movies.delete_movie(alice, movie.id),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
        assert app.db.state == before


def test_put_without_title_is_required_error() -> None:
    app, admin, _ = _world()
    movie = app.movies.create_movie(admin, {"title": "Alien", "description": "d"})
    before = copy.deepcopy(app.db.state)
    with pytest.raises(ValidationError) as caught:
        app.movies.update_movie(admin, movie.id, {"description": "new"}, partial=False)
    assert caught.value.errors == {"title": [REQUIRED]}
    assert app.db.state == before


def test_put_changes_the_fields_it_names_and_keeps_the_others() -> None:
    app, admin, _ = _world()
    movie = app.movies.create_movie(
        admin, {"title": "Alien", "description": "d", "imagePath": "http://a.com/x.png"}
    )
    updated = app.movies.update_movie(admin, movie.id, {"title": "Aliens"}, partial=False)
    assert (updated.title, updated.description, updated.image_path) == ("Aliens", "d", "http://a.com/x.png")
    cleared = app.movies.update_movie(
        admin, movie.id, {"title": "Aliens", "description": "", "imagePath": None}, partial=False
    )
    assert (cleared.description, cleared.image_path) == ("", None)
    created = app.movies.create_movie(admin, {"title": "Bare"})
    assert (created.description, created.image_path) == ("", None)


FIELD_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "title": padded_text(1, 30).filter(lambda t: t.strip() != ""),
        "description": padded_text(0, 40),
        "imagePath": st.one_of(st.none(), st.just(""), web_urls().filter(lambda u: len(u) <= 200)),
    },
)


@SIMPLE
@given(FIELD_VALUES, st.lists(st.integers(1, 5), max_size=3))
def test_patch_changes_only_the_given_fields(patch: dict[str, object], stars: list[int]) -> None:
    app, admin, _ = _world()
    movie = app.movies.create_movie(
        admin, {"title": "Alien", "description": "In space", "imagePath": "https://a.example/p.png"}
    )
    for i, s in enumerate(stars):
        rater = app.accounts.register({"username": f"rater{i}", "password": "correct horse 99" + str(i)})
        app.ratings.rate_movie(rater, movie.id, {"stars": s})
    before = app.movies.get_movie(admin, movie.id)
    other = app.movies.create_movie(admin, {"title": "Other"})

    updated = app.movies.update_movie(admin, movie.id, patch, partial=True)

    def stripped(key: str, old: object) -> object:
        if key not in patch:
            return old
        value = patch[key]
        return value.strip() if isinstance(value, str) else value

    assert updated.id == movie.id
    assert updated.title == stripped("title", before.title)
    assert updated.description == stripped("description", before.description)
    assert updated.image_path == stripped("imagePath", before.image_path)
    assert updated.ratings == before.ratings == RatingSummary.of(stars)
    assert app.movies.get_movie(admin, movie.id) == updated
    assert app.movies.get_movie(admin, other.id) == other


def test_patch_null_image_path_clears_it() -> None:
    app, admin, _ = _world()
    movie = app.movies.create_movie(admin, {"title": "Alien", "imagePath": "https://a.example/p.png"})
    updated = app.movies.update_movie(admin, movie.id, {"imagePath": None}, partial=True)
    assert updated.image_path is None
    assert (updated.title, updated.description) == (movie.title, movie.description)
    assert app.movies.get_movie(admin, movie.id).image_path is None


def test_patch_with_invalid_field_changes_nothing() -> None:
    app, admin, _ = _world()
    movie = app.movies.create_movie(admin, {"title": "Alien"})
    before = copy.deepcopy(app.db.state)
    with pytest.raises(ValidationError) as caught:
        app.movies.update_movie(
            admin, movie.id, {"title": "Fine", "imagePath": "javascript:alert(1)"}, partial=True
        )
    assert caught.value.errors == {"imagePath": [INVALID_URL]}
    with pytest.raises(ValidationError) as caught:
        app.movies.update_movie(admin, movie.id, {"title": "  "}, partial=True)
    assert caught.value.errors == {"title": ["This field may not be blank."]}
    assert app.db.state == before


def test_delete_movie_removes_its_ratings_only() -> None:
    app, admin, alice = _world()
    alien = app.movies.create_movie(admin, {"title": "Alien"})
    heat = app.movies.create_movie(admin, {"title": "Heat"})
    app.ratings.rate_movie(alice, alien.id, {"stars": 5})
    app.ratings.rate_movie(admin, alien.id, {"stars": 3})
    kept, _ = app.ratings.rate_movie(alice, heat.id, {"stars": 2})

    app.movies.delete_movie(admin, alien.id)

    assert list(app.db.state.ratings.values()) == [kept]
    assert [m.id for m in app.movies.list_movies(alice).items] == [heat.id]
    assert app.movies.get_movie(alice, heat.id).ratings == RatingSummary.of([2])
    with pytest.raises(NotFound):
        app.ratings.remove_own_rating(alice, alien.id)


def test_missing_movie_ids_are_not_found() -> None:
    app, admin, alice = _world()
    movie = app.movies.create_movie(admin, {"title": "Alien"})
    app.movies.delete_movie(admin, movie.id)
    before = copy.deepcopy(app.db.state)
    for missing in (movie.id, 12345):
        with pytest.raises(NotFound):
            app.movies.get_movie(alice, missing)
        with pytest.raises(NotFound):
            app.movies.update_movie(admin, missing, {"title": "X"}, partial=False)
        with pytest.raises(NotFound):
            app.movies.update_movie(admin, missing, {}, partial=True)
        with pytest.raises(NotFound):
            app.movies.delete_movie(admin, missing)
        with pytest.raises(NotFound):
            app.ratings.rate_movie(alice, missing, {"stars": 3})
        with pytest.raises(NotFound):
            app.ratings.get_rating(alice, missing)
        with pytest.raises(NotFound):
            app.ratings.delete_rating(admin, missing)
    assert app.db.state == before


def test_a_change_is_made_only_when_the_precondition_holds_on_the_current_movie() -> None:
    app, admin, alice = _world()
    movie = app.movies.create_movie(admin, {"title": "Alien"})
    app.ratings.rate_movie(alice, movie.id, {"stars": 4})
    seen: list[Movie] = []

    def holds(current: Movie) -> bool:
        seen.append(current)
        return True

    changed = app.movies.update_movie(admin, movie.id, {"title": "Aliens"}, partial=True, precondition=holds)
    assert changed.title == "Aliens"
    assert seen == [attrs.evolve(movie, ratings=RatingSummary.of([4]))]  # as it was, ratings and all
    before = copy.deepcopy(app.db.state)
    for change in (
        lambda: app.movies.update_movie(
            admin, movie.id, {"title": "X"}, partial=False, precondition=lambda _m: False
        ),
        lambda: app.movies.delete_movie(admin, movie.id, precondition=lambda _m: False),
    ):
        with pytest.raises(PreconditionFailed):
            change()
    assert app.db.state == before
    app.movies.delete_movie(admin, movie.id, precondition=lambda current: current.title == "Aliens")
    with pytest.raises(NotFound):
        app.movies.get_movie(alice, movie.id)
