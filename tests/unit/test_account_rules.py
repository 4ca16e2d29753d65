"""Usernames, the password policy (Django's four default validators) and the account use cases."""

from __future__ import annotations

import copy
import difflib
import gzip
import re
import unicodedata
from importlib import resources

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from movierater_core import rules
from movierater_core.errors import (
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from movierater_core.model import RatingSummary, User
from movierater_core.use_cases.accounts import Accounts, AccountSettings, check_password
from movierater_core.use_cases.user_admin import LAST_ADMIN_DELETED
from tests.unit.fakes import App, CountingTokenIssuer, make_app

SIMPLE = settings(max_examples=200, deadline=None)

TOO_SHORT = "This password is too short. It must contain at least 8 characters."
TOO_SIMILAR = "The password is too similar to the username."
TOO_COMMON = "This password is too common."
NUMERIC = "This password is entirely numeric."
REQUIRED = "This field is required."
BAD_CREDENTIALS = "Unable to log in with provided credentials."

# ---- oracles, written from Django's sources rather than from rules.py --------------------


def django_name(value: str) -> str:
    """What Django stores: NFKC (``AbstractBaseUser.normalize_username``), trimmed as DRF trims."""
    return unicodedata.normalize("NFKC", value).strip()


def username_ok(value: object) -> bool:
    """The normalized name against Django's UnicodeUsernameValidator plus max_length=150."""
    return (
        isinstance(value, str)
        and 1 <= len(django_name(value)) <= 150
        and re.fullmatch(r"[\w.@+-]+", django_name(value)) is not None
    )


def _django_common_passwords() -> frozenset[str]:
    # CommonPasswordValidator: {x.strip() for x in f}, i.e. one password per *line*.
    data = resources.files("movierater_core").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode().splitlines())


DJANGO_COMMON = _django_common_passwords()


def django_similar(password: str, username: str) -> bool:
    """UserAttributeSimilarityValidator for the username attribute, max_similarity 0.7."""
    password = password.lower()
    value_lower = username.lower()
    for part in [*re.split(r"\W+", value_lower), value_lower]:
        if difflib.SequenceMatcher(a=password, b=part).quick_ratio() >= 0.7:
            return True
    return False


def password_problems_oracle(password: str, username: str | None) -> set[str]:
    problems = set()
    if len(password) < 8:
        problems.add(TOO_SHORT)
    if username and django_similar(password, username):
        problems.add(TOO_SIMILAR)
    if password.lower().strip() in DJANGO_COMMON:
        problems.add(TOO_COMMON)
    if password.isdigit():
        problems.add(NUMERIC)
    return problems


# ---- parse_username ----------------------------------------------------------------------

USERNAME_CHARS = st.one_of(
    st.sampled_from("abcXYZ019_.@+-"),
    st.sampled_from(" \t\n\x00/#!é漢٣ß"),
    st.characters(),
)
NON_STRINGS = st.one_of(
    st.integers(), st.floats(), st.booleans(), st.none(), st.lists(st.text(max_size=3), max_size=2)
)


@SIMPLE
@given(
    st.one_of(
        st.text(USERNAME_CHARS, max_size=20),
        st.text(st.sampled_from("ab_.@+-"), min_size=140, max_size=160),
        st.from_regex(r"[\w.@+-]{1,30}", fullmatch=True),
        NON_STRINGS,
    )
)
@example("")
@example("a" * 150)
@example("a" * 151)
@example("alice\n")
@example(" alice")
@example("al ice")
@example("al\x00ice")
@example("user@example.com")
@example("Zoë_ünïcödé")
@example("٣")
@example("ｃａｒｏｌ")
@example("ﬁona")
@example("𝐜𝐚𝐫𝐨𝐥")
@example("carolⁱ")
@example("ﷺ" * 9)  # 9 characters, 162 once normalized
@example("½")  # NFKC gives "1⁄2": the fraction slash is no letter
@example(None)
@example(42)
def test_parse_username_accepts_iff_django_rule(value: object) -> None:
    if username_ok(value):
        assert isinstance(value, str)
        assert rules.parse_username(value) == django_name(value)
    else:
        with pytest.raises(rules.Invalid) as caught:
            rules.parse_username(value)
        assert len(caught.value.messages) == 1


def test_parse_username_messages() -> None:
    cases = {
        "": "This field may not be blank.",
        "a" * 151: "Ensure this field has no more than 150 characters.",
        "al ice": rules.INVALID_USERNAME,
        None: "This field may not be null.",
        5: "Not a valid string.",
    }
    for value, message in cases.items():
        with pytest.raises(rules.Invalid) as caught:
            rules.parse_username(value)
        assert caught.value.messages == [message], value


# ---- look-alike usernames (#13 item 6): one name, one account ------------------------


def _spellings() -> dict[str, list[str]]:
    """Each character a username may hold, with every character (of the BMP and the
    mathematical alphanumerics) whose NFKC form it is: full-width forms, ligature parts
    (as whole ligatures below), mathematical letters, superscripts, circled digits..."""
    found: dict[str, list[str]] = {}
    for code in [*range(0x20, 0xD800), *range(0xF900, 0x10000), *range(0x1D400, 0x1D800)]:
        char = chr(code)
        target = unicodedata.normalize("NFKC", char)
        if len(target) == 1 and re.fullmatch(r"[\w.@+-]", target):
            found.setdefault(target, []).append(char)
    return {target: sources for target, sources in found.items() if len(sources) > 1}


SPELLINGS = _spellings()
LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬆ": "st"}


@st.composite
def two_spellings(draw: st.DrawFn) -> tuple[str, str]:
    """Two spellings of one name: each character spelled any way that normalizes to it."""
    targets = draw(st.lists(st.sampled_from(sorted(SPELLINGS)), min_size=1, max_size=12))
    ligature = draw(st.sampled_from(sorted(LIGATURES)))
    spell = lambda: "".join(draw(st.sampled_from(SPELLINGS[t])) for t in targets)  # noqa: E731
    return spell() + ligature, spell() + LIGATURES[ligature]


@SIMPLE
@given(st.one_of(st.text(USERNAME_CHARS, max_size=20), two_spellings().map(lambda pair: pair[0])))
def test_a_parsed_username_is_nfkc_and_parses_to_itself(value: str) -> None:
    try:
        name = rules.parse_username(value)
    except rules.Invalid:
        return
    assert unicodedata.is_normalized("NFKC", name)
    assert rules.parse_username(name) == name


@settings(max_examples=60, deadline=None)
@given(two_spellings())
@example(("carol", "ｃａｒｏｌ"))
@example(("carol", "𝐜𝐚𝐫𝐨𝐥"))
@example(("fiona", "ﬁona"))
@example(("caroli", "carolⁱ"))
def test_any_two_spellings_of_one_name_are_one_account(pair: tuple[str, str]) -> None:
    first, second = pair
    assert unicodedata.normalize("NFKC", first) == unicodedata.normalize("NFKC", second)
    app = make_app()
    user = app.accounts.register({"username": first, "password": GOOD_PASSWORD})
    assert user.username == unicodedata.normalize("NFKC", first)
    with pytest.raises(ValidationError) as caught:
        app.accounts.register({"username": second, "password": GOOD_PASSWORD})
    assert caught.value.errors == {"username": ["A user with that username already exists."]}
    other = app.accounts.register({"username": "someone-else", "password": GOOD_PASSWORD})
    with pytest.raises(ValidationError) as caught:
        app.accounts.update_user(other, other.id, {"username": second}, partial=True)
    assert caught.value.errors == {"username": ["A user with that username already exists."]}
    key = app.accounts.log_in({"username": second, "password": GOOD_PASSWORD})  # any spelling logs in
    assert app.accounts.authenticate(key) == user


def test_a_name_stored_before_normalization_still_logs_in_and_shares_the_lock() -> None:
    app = make_app()
    carol = app.accounts.register({"username": "carol", "password": GOOD_PASSWORD})
    with app.db.writing() as repos:  # as 0.2.0 stored it, beside carol
        legacy = repos.users.add("ｃａｒｏｌ", app.hasher.hash(GOOD_PASSWORD + "2"))
    key = app.accounts.log_in({"username": "ｃａｒｏｌ", "password": GOOD_PASSWORD + "2"})
    assert app.accounts.authenticate(key) == legacy  # its exact name first
    key = app.accounts.log_in({"username": "carol", "password": GOOD_PASSWORD})
    assert app.accounts.authenticate(key) == carol
    for _ in range(5):  # failures under either spelling count against one name
        with pytest.raises(ValidationError):
            app.accounts.log_in({"username": "𝐜𝐚𝐫𝐨𝐥", "password": "wrong password 1"})
    with pytest.raises(RateLimited):
        app.accounts.log_in({"username": "carol", "password": GOOD_PASSWORD})


# ---- parse_password ----------------------------------------------------------------------

SIMPLE_USERNAMES = st.one_of(
    st.from_regex(r"[a-z]{1,12}", fullmatch=True),
    st.from_regex(r"[a-zA-Z0-9]{1,8}[.@+-][a-zA-Z0-9]{1,8}", fullmatch=True),
    # "İ" is left to the explicit test of that known divergence (see below)
    st.from_regex(r"[\w.@+-]{1,20}", fullmatch=True).filter(lambda u: "\u0130" not in u),
)


@st.composite
def password_and_username(draw: st.DrawFn) -> tuple[str, str | None]:
    username = draw(st.one_of(st.none(), SIMPLE_USERNAMES))
    base = username or "someone"
    password = draw(
        st.one_of(
            st.text(max_size=24),
            st.text(st.sampled_from("abcdefgh0123456789 !A"), max_size=16),
            st.from_regex(r"[0-9]{1,14}", fullmatch=True),
            # variations on a common password: case, padding, suffixes
            st.builds(
                lambda p, upper, pad, suffix: (
                    (" " * pad) + (p.upper() if upper else p) + suffix + (" " * pad)
                ),
                # multi-word entries are left to the explicit tests below, so that this
                # property does not fail only now and then on the same known divergence
                st.sampled_from(sorted(p for p in DJANGO_COMMON if " " not in p)),
                st.booleans(),
                st.integers(0, 2),
                st.sampled_from(["", "", "1", "x!"]),
            ),
            # variations on the username
            st.builds(
                lambda prefix, suffix, upper: prefix + (base.upper() if upper else base) + suffix,
                st.text(st.sampled_from("xyz!9"), max_size=4),
                st.text(st.sampled_from("0123456789?Q"), max_size=6),
                st.booleans(),
            ),
        )
    )
    return password, username


@SIMPLE
@given(password_and_username())
@example(("password", None))
@example(("PASSWORD ", None))
@example(("12345678xyz", None))
@example(("99999999999", None))
@example(("alice123", "alice"))
@example(("Tr0ub4dor&3xyz", "alice"))
@example(("short1!", None))
@example(("bob.smith.2024!", "bob.smith"))
@example(("            ", None))  # twelve spaces: blank
def test_parse_password_accepted_iff_djangos_validators_pass(case: tuple[str, str | None]) -> None:
    password, username = case
    expected = password_problems_oracle(password, username)
    parse_text_ok = password != "" and "\x00" not in password and len(password) <= 4096
    blank = parse_text_ok and not password.strip()  # whitespace alone: refused as blank first
    if blank:
        with pytest.raises(rules.Invalid) as caught:
            rules.parse_password(password, username=username)
        assert caught.value.messages == [rules.NOT_BLANK]
    elif parse_text_ok and not expected:
        assert rules.parse_password(password, username=username) == password  # never stripped
    else:
        with pytest.raises(rules.Invalid) as caught:
            rules.parse_password(password, username=username)
        if parse_text_ok:
            assert set(caught.value.messages) == expected
            assert len(caught.value.messages) == len(expected)


@pytest.mark.parametrize(
    ("password", "username", "problem"),
    [
        ("password", None, TOO_COMMON),
        ("Password", "zed", TOO_COMMON),
        ("  password  ", None, TOO_COMMON),
        ("99999999999", None, NUMERIC),
        ("123", None, TOO_SHORT),
        ("alice123", "alice", TOO_SIMILAR),
        ("ALICE!99", "alice", TOO_SIMILAR),
        ("smithereens", "john.smithers", TOO_SIMILAR),  # a part of the username
    ],
)
def test_password_refused_examples(password: str, username: str | None, problem: str) -> None:
    with pytest.raises(rules.Invalid) as caught:
        rules.parse_password(password, username=username)
    assert problem in caught.value.messages


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("Tr0ub4dor&3xyz", "alice"),
        ("Tr0ub4dor&3xyz", None),
        ("12345678xyz", "alice"),
        ("correct horse battery staple", "alice"),
        ("  leading and trailing spaces kept  ", "bob"),
    ],
)
def test_password_accepted_examples(password: str, username: str | None) -> None:
    assert rules.parse_password(password, username=username) == password


def test_password_length_limits_and_types() -> None:
    long_ok = "Zq9!" * 1024  # 4096 characters
    assert rules.parse_password(long_ok, username=None) == long_ok
    with pytest.raises(rules.Invalid) as caught:
        rules.parse_password(long_ok + "x", username=None)
    assert caught.value.messages == ["Ensure this field has no more than 4096 characters."]
    for value, message in [
        ("", "This field may not be blank."),
        (None, "This field may not be null."),
        (12345678, "Not a valid string."),
        ("abc\x00defghij", "Null characters are not allowed."),
    ]:
        with pytest.raises(rules.Invalid) as caught:
            rules.parse_password(value, username=None)
        assert caught.value.messages == [message]


def test_common_passwords_are_djangos_list_line_by_line() -> None:
    """Django reads the list one password per line; a few entries contain spaces."""
    assert rules.common_passwords() == DJANGO_COMMON


@pytest.mark.parametrize("password", ["friend of emily", "Friend Of Joan "])
def test_multi_word_common_password_is_refused(password: str) -> None:
    # "friend of emily" is a line of Django's list: Django refuses it as too common.
    assert password.lower().strip() in DJANGO_COMMON
    with pytest.raises(rules.Invalid) as caught:
        rules.parse_password(password, username="zed")
    assert caught.value.messages == [TOO_COMMON]


def test_word_of_a_multi_word_entry_is_not_common() -> None:
    # "joan" alone is not in Django's list (only "friend of joan" is), so Django accepts it
    # padded to 8+ characters; splitting the list on whitespace makes it "common".
    assert "joan" not in DJANGO_COMMON
    assert rules.parse_password("   joan   ", username="zed") == "   joan   "


def test_similarity_splits_the_lowercased_username_like_django() -> None:
    # Django lowercases the username *before* splitting on \W+. "İ".lower() is "i" plus a
    # combining dot (a \W character), so Django's parts are "abcdefghi" and "zzz...", and
    # "abcdefghq7" is too similar to the first (quick_ratio 16/19 = 0.84).
    username = "abcdefgh\u0130" + "z" * 24
    assert username_ok(username)
    assert django_similar("abcdefghq7", username)
    with pytest.raises(rules.Invalid) as caught:
        rules.parse_password("abcdefghq7", username=username)
    assert caught.value.messages == [TOO_SIMILAR]


# ---- use cases: registration and tokens --------------------------------------------------

GOOD_PASSWORD = "correct horse 123"


def _register(app: App, name: str, *, is_admin: bool = False) -> User:
    return app.accounts.register({"username": name, "password": GOOD_PASSWORD + name}, is_admin=is_admin)


def _log_in(app: App, name: str) -> str:
    return app.accounts.log_in({"username": name, "password": GOOD_PASSWORD + name})


def test_register_returns_the_user() -> None:
    app = make_app()
    alice = _register(app, "alice")
    assert isinstance(alice, User)
    assert alice.username == "alice" and alice.is_admin is False
    assert app.accounts.get_user(alice, alice.id) == alice
    admin = _register(app, "root", is_admin=True)
    assert admin.is_admin is True and admin.id != alice.id
    assert app.db.state.users[alice.id][1] != GOOD_PASSWORD + "alice"  # stored hashed


def test_register_duplicate_username() -> None:
    app = make_app()
    _register(app, "alice")
    before = copy.deepcopy(app.db.state)
    with pytest.raises(ValidationError) as caught:
        app.accounts.register({"username": "alice", "password": "another good one 42"})
    assert caught.value.errors == {"username": ["A user with that username already exists."]}
    assert app.db.state == before


def test_register_missing_fields_and_bad_bodies() -> None:
    app = make_app()
    with pytest.raises(ValidationError) as caught:
        app.accounts.register({})
    assert caught.value.errors == {"username": [REQUIRED], "password": [REQUIRED]}
    with pytest.raises(ValidationError) as caught:
        app.accounts.register({"username": "alice"})
    assert caught.value.errors == {"password": [REQUIRED]}
    with pytest.raises(ValidationError) as caught:
        app.accounts.register(["alice", "pw"])
    assert caught.value.errors == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    with pytest.raises(ValidationError) as caught:
        app.accounts.register(None)
    assert caught.value.errors == {"non_field_errors": ["Invalid data. Expected a dictionary, but got null."]}
    with pytest.raises(ValidationError) as caught:
        app.accounts.register({"username": "alice", "password": "alice123"})
    assert TOO_SIMILAR in caught.value.errors["password"]
    assert app.db.state.users == {}


def test_log_in_issues_a_40_hex_key() -> None:
    app = make_app()
    alice = _register(app, "alice")
    key = _log_in(app, "alice")
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    assert app.accounts.authenticate(key) == alice
    assert _log_in(app, "alice") != key  # each login is a new token


def test_failed_logins_look_the_same_and_cost_one_verification_each() -> None:
    app = make_app()
    _register(app, "alice")
    errors = []
    for body in (
        {"username": "alice", "password": "wrong password 1"},
        {"username": "nobody", "password": "wrong password 1"},
        {"username": "Alice", "password": GOOD_PASSWORD + "alice"},  # usernames are exact
    ):
        before = app.hasher.verifications
        with pytest.raises(ValidationError) as caught:
            app.accounts.log_in(body)
        assert app.hasher.verifications == before + 1, body
        errors.append(caught.value.errors)
    assert errors == [{"non_field_errors": [BAD_CREDENTIALS]}] * 3
    before = app.hasher.verifications
    _log_in(app, "alice")
    assert app.hasher.verifications == before + 1
    assert app.db.state.tokens and len(app.db.state.tokens) == 1


def test_log_in_missing_fields() -> None:
    app = make_app()
    with pytest.raises(ValidationError) as caught:
        app.accounts.log_in({"username": "alice"})
    assert caught.value.errors == {"password": [REQUIRED]}
    with pytest.raises(ValidationError) as caught:
        app.accounts.log_in([])
    assert caught.value.errors == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


@pytest.mark.parametrize("key", ["0" * 40, "f" * 40, "not a token", "", "a" * 200, "ab/cd"])
def test_authenticate_unknown_key(key: str) -> None:
    app = make_app()
    _register(app, "alice")
    _log_in(app, "alice")
    with pytest.raises(NotAuthenticated) as caught:
        app.accounts.authenticate(key)
    assert caught.value.detail == "Invalid token."


def test_log_out_revokes_only_that_token() -> None:
    app = make_app()
    alice = _register(app, "alice")
    k1, k2 = _log_in(app, "alice"), _log_in(app, "alice")
    app.accounts.log_out(k1)
    with pytest.raises(NotAuthenticated):
        app.accounts.authenticate(k1)
    assert app.accounts.authenticate(k2) == alice
    app.accounts.log_out(k1)  # unknown now: nothing happens
    assert app.accounts.authenticate(k2) == alice


def test_own_password_change_keeps_the_current_token_only() -> None:
    app = make_app()
    alice = _register(app, "alice")
    bob = _register(app, "bob")
    k1, k2, k3 = (_log_in(app, "alice") for _ in range(3))
    kb = _log_in(app, "bob")
    updated = app.accounts.update_user(
        alice, alice.id, {"password": "a brand new secret 9"}, partial=True, current_key=k2
    )
    assert updated == alice
    assert app.accounts.authenticate(k2) == alice
    for key in (k1, k3):
        with pytest.raises(NotAuthenticated):
            app.accounts.authenticate(key)
    assert app.accounts.authenticate(kb) == bob  # other users untouched
    new = app.accounts.log_in({"username": "alice", "password": "a brand new secret 9"})
    assert app.accounts.authenticate(new) == alice
    with pytest.raises(ValidationError):
        _log_in(app, "alice")  # the old password is gone


def test_admin_changing_anothers_password_revokes_all_their_tokens() -> None:
    app = make_app()
    admin = _register(app, "root", is_admin=True)
    alice = _register(app, "alice")
    ka = _log_in(app, "root")
    k1, k2 = _log_in(app, "alice"), _log_in(app, "alice")
    app.accounts.update_user(
        admin, alice.id, {"password": "set by the admin 77"}, partial=True, current_key=ka
    )
    for key in (k1, k2):
        with pytest.raises(NotAuthenticated):
            app.accounts.authenticate(key)
    assert app.accounts.authenticate(ka) == admin


def test_rename_only_keeps_tokens_and_checks_uniqueness() -> None:
    app = make_app()
    alice = _register(app, "alice")
    _register(app, "bob")
    key = _log_in(app, "alice")
    renamed = app.accounts.update_user(alice, alice.id, {"username": "alicia"}, partial=True)
    assert renamed == User(alice.id, "alicia", False)
    assert app.accounts.authenticate(key) == renamed
    before = copy.deepcopy(app.db.state)
    with pytest.raises(ValidationError) as caught:
        app.accounts.update_user(alice, alice.id, {"username": "bob"}, partial=True)
    assert caught.value.errors == {"username": ["A user with that username already exists."]}
    assert app.db.state == before


def test_put_requires_username_and_password() -> None:
    app = make_app()
    alice = _register(app, "alice")
    before = copy.deepcopy(app.db.state)
    with pytest.raises(ValidationError) as caught:
        app.accounts.update_user(alice, alice.id, {"username": "alicia"}, partial=False)
    assert caught.value.errors == {"password": [REQUIRED]}
    with pytest.raises(ValidationError) as caught:
        app.accounts.update_user(alice, alice.id, {}, partial=False)
    assert caught.value.errors == {"username": [REQUIRED], "password": [REQUIRED]}
    with pytest.raises(ValidationError) as caught:
        app.accounts.update_user(alice, alice.id, [1], partial=True)
    assert caught.value.errors == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    assert app.db.state == before
    updated = app.accounts.update_user(
        alice, alice.id, {"username": "alicia", "password": "fresh and long 55"}, partial=False
    )
    assert updated.username == "alicia"
    assert app.accounts.log_in({"username": "alicia", "password": "fresh and long 55"})


def test_new_password_is_checked_against_the_new_or_current_username() -> None:
    app = make_app()
    alice = _register(app, "alice")
    with pytest.raises(ValidationError) as caught:
        app.accounts.update_user(alice, alice.id, {"password": "Alice2024"}, partial=True)
    assert TOO_SIMILAR in caught.value.errors["password"]
    with pytest.raises(ValidationError) as caught:
        app.accounts.update_user(
            alice, alice.id, {"username": "margaret", "password": "margaret77"}, partial=True
        )
    assert TOO_SIMILAR in caught.value.errors["password"]


def test_non_admin_cannot_touch_another_user_but_can_themselves() -> None:
    app = make_app()
    alice = _register(app, "alice")
    bob = _register(app, "bob")
    kb = _log_in(app, "bob")
    before = copy.deepcopy(app.db.state)
    with pytest.raises(PermissionDenied):
        app.accounts.get_user(alice, bob.id)
    with pytest.raises(PermissionDenied):
        app.accounts.update_user(alice, bob.id, {"username": "bobby"}, partial=True)
    with pytest.raises(PermissionDenied):
        app.accounts.update_user(alice, bob.id, {"password": "hijacked pass 1"}, partial=True, current_key=kb)
    with pytest.raises(PermissionDenied):
        app.accounts.delete_user(alice, bob.id)
    assert app.db.state == before
    assert app.accounts.authenticate(kb) == bob

    assert app.accounts.get_user(bob, bob.id) == bob
    assert app.accounts.update_user(bob, bob.id, {"username": "bobby"}, partial=True).username == "bobby"
    app.accounts.delete_user(bob, bob.id)
    assert bob.id not in app.db.state.users


def test_admin_can_manage_anyone_and_missing_ids_are_not_found() -> None:
    app = make_app()
    admin = _register(app, "root", is_admin=True)
    alice = _register(app, "alice")
    assert app.accounts.get_user(admin, alice.id) == alice
    assert app.accounts.update_user(admin, alice.id, {"username": "al"}, partial=True).username == "al"
    assert [u.id for u in app.accounts.list_users(admin).items] == [admin.id, alice.id]
    assert [u.id for u in app.accounts.list_users(alice).items] == [alice.id]  # themself alone (#13)
    app.accounts.delete_user(admin, alice.id)
    with pytest.raises(NotFound):
        app.accounts.get_user(admin, alice.id)
    with pytest.raises(NotFound):
        app.accounts.update_user(admin, alice.id, {"username": "x"}, partial=True)
    with pytest.raises(NotFound):
        app.accounts.delete_user(admin, alice.id)
    with pytest.raises(NotFound):
        app.accounts.delete_user(admin, 999)


def test_delete_user_removes_ratings_tokens_and_fixes_summaries() -> None:
    app = make_app()
    admin = _register(app, "root", is_admin=True)
    alice = _register(app, "alice")
    bob = _register(app, "bob")
    m1 = app.movies.create_movie(admin, {"title": "One"}).id
    m2 = app.movies.create_movie(admin, {"title": "Two"}).id
    app.ratings.rate_movie(alice, m1, {"stars": 5})
    app.ratings.rate_movie(alice, m2, {"stars": 1})
    app.ratings.rate_movie(bob, m1, {"stars": 2})
    ka1, ka2 = _log_in(app, "alice"), _log_in(app, "alice")
    kb = _log_in(app, "bob")
    assert app.movies.get_movie(bob, m1).ratings == RatingSummary.of([5, 2])

    app.accounts.delete_user(alice, alice.id)

    assert app.movies.get_movie(bob, m1).ratings == RatingSummary.of([2])
    assert app.movies.get_movie(bob, m2).ratings == RatingSummary()
    assert all(r.user_id != alice.id for r in app.db.state.ratings.values())
    assert all(uid != alice.id for uid, _ in app.db.state.tokens.values())
    for key in (ka1, ka2):
        with pytest.raises(NotAuthenticated):
            app.accounts.authenticate(key)
    assert app.accounts.authenticate(kb) == bob
    with pytest.raises(ValidationError) as caught:
        _log_in(app, "alice")
    assert caught.value.errors == {"non_field_errors": [BAD_CREDENTIALS]}
    # the name is free again
    assert _register(app, "alice").id != alice.id


# ---- token expiry --------------------------------------------------------------------------


def _signed_in(app: App) -> tuple[str, int]:
    user = app.accounts.register({"username": "idle", "password": "a calm passphrase"})
    return app.accounts.log_in({"username": "idle", "password": "a calm passphrase"}), user.id


def test_a_token_expires_after_the_ttl_without_use() -> None:
    app = make_app()
    key, _ = _signed_in(app)
    app.clock.advance(30 * 86400 + 1)
    with pytest.raises(NotAuthenticated) as caught:
        app.accounts.authenticate(key)
    assert caught.value.detail == "Invalid token."
    assert app.db.state.tokens == {}  # the expired token is gone, not just refused


def test_each_use_slides_the_expiry() -> None:
    app = make_app()
    key, user_id = _signed_in(app)
    for _ in range(5):  # 5 x 20 days: far past one TTL, but never 30 days idle
        app.clock.advance(20 * 86400)
        assert app.accounts.authenticate(key).id == user_id


def test_a_use_is_recorded_at_most_every_ten_minutes() -> None:
    app = make_app()
    key, _ = _signed_in(app)
    commits = app.db.commits
    app.clock.advance(60)
    app.accounts.authenticate(key)
    assert app.db.commits == commits  # no write on a hot path
    app.clock.advance(11 * 60)
    app.accounts.authenticate(key)
    assert app.db.commits == commits + 1


# ---- second pass (#13 item 7) --------------------------------------------------------


def test_a_short_ttl_slides_too() -> None:
    """The touch interval was 10 minutes whatever the TTL: a 2-minute token in steady use
    expired 2 minutes after its login. Now it is at most a tenth of the TTL."""
    app = make_app()
    accounts = Accounts(app.db, app.hasher, CountingTokenIssuer(), app.clock, AccountSettings(token_ttl=120))
    accounts.register({"username": "brief", "password": GOOD_PASSWORD})
    key = accounts.log_in({"username": "brief", "password": GOOD_PASSWORD})
    for _ in range(10):  # 10 x 100 s: far past the TTL, never 120 s idle
        app.clock.advance(100)
        assert accounts.authenticate(key).username == "brief"
    commits = app.db.commits
    app.clock.advance(5)  # within a tenth of the TTL: no write
    accounts.authenticate(key)
    assert app.db.commits == commits


@pytest.mark.parametrize("blank", [" " * 12, "\t" * 9, "\u3000" * 10, " \n \r\n \u00a0  "])
def test_a_password_of_whitespace_alone_is_blank(blank: str) -> None:
    app = make_app()
    with pytest.raises(ValidationError) as caught:
        app.accounts.register({"username": "alice", "password": blank})
    assert caught.value.errors == {"password": ["This field may not be blank."]}
    alice = _register(app, "alice")
    with pytest.raises(ValidationError) as caught:
        app.accounts.update_user(alice, alice.id, {"password": blank}, partial=True)
    assert caught.value.errors == {"password": ["This field may not be blank."]}
    assert check_password(blank, "alice") == ["This field may not be blank."]


def test_a_password_with_spaces_around_it_is_kept_as_typed() -> None:
    app = make_app()
    app.accounts.register({"username": "alice", "password": "  spaced out pass  "})
    with pytest.raises(ValidationError):
        app.accounts.log_in({"username": "alice", "password": "spaced out pass"})
    assert app.accounts.log_in({"username": "alice", "password": "  spaced out pass  "})


def test_the_last_admin_cannot_delete_themself_through_the_api() -> None:
    app = make_app()
    root = _register(app, "root", is_admin=True)
    before = copy.deepcopy(app.db.state)
    with pytest.raises(ValidationError) as caught:
        app.accounts.delete_user(root, root.id)
    assert caught.value.errors == {"non_field_errors": [LAST_ADMIN_DELETED]}
    assert app.db.state == before
    second = _register(app, "second", is_admin=True)
    app.accounts.delete_user(root, root.id)  # another admin remains: allowed
    with pytest.raises(ValidationError):
        app.accounts.delete_user(second, second.id)
    alice = _register(app, "alice")
    app.accounts.delete_user(alice, alice.id)  # non-admins as before
