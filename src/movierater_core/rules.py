"""Every input rule of the service, in one place.

Each ``parse_*`` function takes a raw value as decoded from JSON (any type at all) and
returns a clean value, or raises :class:`Invalid` with the message a client sees. The
messages are Django REST Framework's, because deployed clients show them.

A :class:`Rule` pairs a parser with the JSON Schema of the values it accepts, written
beside it from the same limits; a :class:`Body` declares the fields of one request body
(which rule, when required). Use cases parse with a :class:`Form` over a body, and the
HTTP layer's OpenAPI document is generated from the same declarations.
"""

from __future__ import annotations

import difflib
import enum
import gzip
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, Final, Generic, TypeVar
from urllib.parse import urlsplit

from attrs import field, frozen

from movierater_core.errors import ValidationError
from movierater_core.missing import MISSING, Missing
from movierater_core.model import MAX_STARS, MIN_STARS, MovieOrder, Stars

T = TypeVar("T")
JsonSchema = Mapping[str, object]

REQUIRED: Final = "This field is required."
NOT_NULL: Final = "This field may not be null."
NOT_BLANK: Final = "This field may not be blank."
NOT_STRING: Final = "Not a valid string."
NO_NUL: Final = "Null characters are not allowed."
NOT_INTEGER: Final = "A valid integer is required."
INVALID_URL: Final = "Enter a valid URL."
INVALID_USERNAME: Final = (
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
)
USERNAME_TAKEN: Final = "A user with that username already exists."
BAD_CREDENTIALS: Final = "Unable to log in with provided credentials."

TITLE_MAX: Final = 150
DESCRIPTION_MAX: Final = 360
IMAGE_PATH_MAX: Final = 200
USERNAME_MAX: Final = 150
PASSWORD_MIN: Final = 8
PASSWORD_MAX: Final = 4096  # argon2 copes with more, but nobody types it and it costs CPU
ID_MAX: Final = 2**31 - 1  # ids are 32-bit in every supported database


class Invalid(Exception):
    """One field's value broke a rule; ``messages`` says which."""

    def __init__(self, *messages: str) -> None:
        self.messages = list(messages)
        super().__init__(*messages)


def too_long(limit: int) -> str:
    return f"Ensure this field has no more than {limit} characters."


# ---- rules: a parser and the JSON Schema of what it accepts --------------------------------


@frozen
class Rule(Generic[T]):
    """How one kind of value is parsed, and the JSON Schema of the values it accepts: exactly
    where JSON Schema can say it, else a subset (each pattern below says why). Fuzzers
    generate from these schemas, so a schema must never admit a value the parser refuses
    for a reason the schema could have expressed."""

    parse: Callable[[object], T]
    schema: JsonSchema
    name: str | None = None  # a rule shared by many fields (Id, Stars), which a document may name


# Text is trimmed with str.strip. A pattern for "not blank once trimmed" (ECMA-262, as JSON
# Schema's): \s there lacks some characters str.isspace counts (\x1c-\x1f, \x85), so they
# are listed; it has one more (\ufeff), so this is a subset of what the rule accepts.
NO_NUL_PATTERN: Final = "^[^\\u0000]*$"
NOT_BLANK_PATTERN: Final = "^[^\\u0000]*[^\\s\\u0000\\u001c-\\u001f\\u0085][^\\u0000]*$"


def text_schema(max_length: int, *, allow_blank: bool, strip: bool = True) -> dict[str, object]:
    """What :func:`parse_text` accepts, as JSON Schema (untrimmed values: a subset)."""
    return {
        "type": "string",
        "minLength": 0 if allow_blank else 1,
        "maxLength": max_length,
        "pattern": NO_NUL_PATTERN if allow_blank or not strip else NOT_BLANK_PATTERN,
    }


def text_rule(max_length: int, *, allow_blank: bool = False, strip: bool = True) -> Rule[str]:
    return Rule(
        lambda value: parse_text(value, max_length=max_length, allow_blank=allow_blank, strip=strip),
        text_schema(max_length, allow_blank=allow_blank, strip=strip),
    )


def int_rule(minimum: int, maximum: int) -> Rule[int]:
    return Rule(
        lambda value: parse_int(value, minimum=minimum, maximum=maximum),
        {"type": "integer", "minimum": minimum, "maximum": maximum},
    )


# ---- primitive parsers -------------------------------------------------------------------


def parse_text(value: object, *, max_length: int, allow_blank: bool, strip: bool = True) -> str:
    """A string field as DRF's CharField sees it (trimmed unless ``strip`` is off)."""
    if value is None:
        raise Invalid(NOT_NULL)
    if not isinstance(value, str):
        raise Invalid(NOT_STRING)
    if "\x00" in value:
        raise Invalid(NO_NUL)
    text = value.strip() if strip else value
    if not text and not allow_blank:
        raise Invalid(NOT_BLANK)
    if len(text) > max_length:
        raise Invalid(too_long(max_length))
    return text


def parse_int(value: object, *, minimum: int, maximum: int) -> int:
    """A strict integer: JSON numbers that are whole ints only (not ``2.5``, ``"5"`` or ``true``)."""
    if value is None:
        raise Invalid(NOT_NULL)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(NOT_INTEGER)
    if value < minimum:
        raise Invalid(f"Ensure this value is greater than or equal to {minimum}.")
    if value > maximum:
        raise Invalid(f"Ensure this value is less than or equal to {maximum}.")
    return value


# An id written as text, in a path or a query string alike: ASCII digits only (no sign, no
# spaces, no other script's digits); leading zeros are read as the original's int() read
# them, so 0006 is 6 in both places.
_ID_TEXT = re.compile(r"0*([0-9]{1,10})")


def id_in_text(text: str) -> int | None:
    """The id ``text`` spells, or None (a path with it is not found)."""
    match = _ID_TEXT.fullmatch(text)
    value = int(match.group(1)) if match else 0
    return value if 1 <= value <= ID_MAX else None


def parse_id(value: object) -> int:
    """An id given as a number or, spelled as :func:`id_in_text` reads it, a string (as
    query parameters are)."""
    if isinstance(value, str) and (match := _ID_TEXT.fullmatch(value)):
        value = int(match.group(1))
    return parse_int(value, minimum=1, maximum=ID_MAX)


# A count in a query string (?limit=, ?offset=): optionally signed ASCII digits, so that a
# negative count is told it is too small rather than not a number; at most 10 digits are
# read as a number (more is beyond every maximum here, and never parsed).
_COUNT_TEXT = re.compile(r"(-?)0*([0-9]{1,10}|[0-9]+)")


def count_in_text(value: object, *, minimum: int, maximum: int) -> int:
    """A whole number written in a query string, ``minimum..maximum`` (DRF's messages)."""
    if value is None:
        raise Invalid(NOT_NULL)
    if isinstance(value, str):
        match = _COUNT_TEXT.fullmatch(value)
        if match is None:
            raise Invalid(NOT_INTEGER)
        sign, digits = match.groups()
        if len(digits) > 10:
            raise Invalid(
                f"Ensure this value is {'greater' if sign else 'less'} than or equal to "
                f"{minimum if sign else maximum}."
            )
        value = -int(digits) if sign else int(digits)
    return parse_int(value, minimum=minimum, maximum=maximum)


def count_rule(minimum: int, maximum: int) -> Rule[int]:
    """:func:`count_in_text` as a rule; its schema says integer, as a query parameter's
    value is described (the text of one)."""
    return Rule(
        lambda value: count_in_text(value, minimum=minimum, maximum=maximum),
        {"type": "integer", "minimum": minimum, "maximum": maximum},
    )


def not_a_choice(value: object) -> str:
    """DRF's ChoiceField message."""
    return f'"{value}" is not a valid choice.'


# ---- domain fields -----------------------------------------------------------------------


ID: Final = Rule(parse_id, {"type": "integer", "minimum": 1, "maximum": ID_MAX, "format": "int32"}, name="Id")


class Me(enum.Enum):
    """``me`` where a user's id goes (``?user=me``): the signed-in user, whose id the use
    case puts in its place."""

    ME = "me"


ME: Final = Me.ME


def parse_user_id_or_me(value: object) -> int | Me:
    """``?user=``: an id as :func:`parse_id` reads it, or exactly ``me`` (lower case, as
    written; anything else is not an integer)."""
    return ME if value == ME.value else parse_id(value)


USER_ID_OR_ME: Final = Rule(
    parse_user_id_or_me,
    {"anyOf": [dict(ID.schema), {"type": "string", "const": ME.value}]},
)


def parse_stars(value: object) -> Stars:
    return Stars(parse_int(value, minimum=MIN_STARS, maximum=MAX_STARS))


STARS: Final = Rule(parse_stars, int_rule(MIN_STARS, MAX_STARS).schema, name="Stars")
TITLE: Final = text_rule(TITLE_MAX)
DESCRIPTION: Final = text_rule(DESCRIPTION_MAX, allow_blank=True)
parse_title = TITLE.parse
parse_description = DESCRIPTION.parse


ORDERINGS: Final = {order.name: order for order in MovieOrder.every()}


def parse_ordering(value: object) -> MovieOrder:
    """``?ordering=``: one of :data:`ORDERINGS` (a field, ``-`` before it for descending)."""
    if value is None:
        raise Invalid(NOT_NULL)
    order = ORDERINGS.get(value) if isinstance(value, str) else None
    if order is None:
        raise Invalid(not_a_choice(value))
    return order


ORDERING: Final = Rule(parse_ordering, {"type": "string", "enum": list(ORDERINGS)})

BAD_DATETIME: Final = (
    "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]{1,9}))?)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def parse_timestamp(value: object) -> datetime:
    """An ISO 8601 / RFC 3339 date and time (``2026-12-03T15:00:00Z``), timezone-aware UTC;
    without an offset it is UTC. A leap second (``:60``) is the last microsecond of its
    minute; digits past the microsecond are dropped."""
    if value is None:
        raise Invalid(NOT_NULL)
    found = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise Invalid(BAD_DATETIME)
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    seconds = int(second or 0)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if seconds == 60:  # RFC 3339 allows it; datetime does not
        seconds, micro = 59, 999_999
    if zone not in (None, "Z", "z") and (int(zone[1:3]) > 23 or int(zone[4:6]) > 59):
        raise Invalid(BAD_DATETIME)
    try:
        offset = (
            timedelta(0)
            if zone in (None, "Z", "z")
            else (1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        )
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute), seconds, micro)
        return (naive - offset).replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise Invalid(BAD_DATETIME) from None


TIMESTAMP: Final = Rule(parse_timestamp, {"type": "string", "format": "date-time"})

MY_RATING: Final = "my_rating"
INCLUDES: Final = (MY_RATING,)
IS_ADMIN: Final = "is_admin"
USER_INCLUDES: Final = (IS_ADMIN,)


def include_rule(choices: tuple[str, ...]) -> Rule[str]:
    """``?include=``: one of ``choices`` (what an answer carries beyond its fields)."""

    def parse(value: object) -> str:
        if value is None:
            raise Invalid(NOT_NULL)
        if not isinstance(value, str) or value not in choices:
            raise Invalid(not_a_choice(value))
        return value

    return Rule(parse, {"type": "string", "enum": list(choices)})


INCLUDE: Final = include_rule(INCLUDES)  # a movie's: my_rating
USER_INCLUDE: Final = include_rule(USER_INCLUDES)  # a user's: is_admin
# ?search=: any text a title could hold (trimmed, as DRF's SearchFilter strips it); empty
# is no search. Longer than a title can be, it could match nothing: refused as too long.
SEARCH: Final = text_rule(TITLE_MAX, allow_blank=True)
# The users list's ?search=: the same, for any text a username could hold.
USER_SEARCH: Final = text_rule(USERNAME_MAX, allow_blank=True)


_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"  # one label of a host name
_HOST = re.compile(
    rf"(?:{_LABEL}\.)*{_LABEL}\.?"  # names
    r"|\d{1,3}(?:\.\d{1,3}){3}"  # IPv4
    r"|\[[0-9A-Fa-f:.]+\]",  # IPv6
    re.IGNORECASE,  # which in Unicode lets a few non-ASCII letters in too (K, ſ, ı): kept as it was
)
_PORT = "(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
# What is_web_url accepts, as an ECMA-262 pattern, or "": a subset, since urlsplit's rules
# (userinfo, brackets, IP literals, queries, any non-space character in a path) do not fit
# a regex that generators can use. It is built from the same host label as _HOST.
WEB_URL_PATTERN: Final = (
    f"^(?:https?://{_LABEL}(?:\\.{_LABEL})*(?::{_PORT})?(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?)?$"
)


def is_web_url(text: str) -> bool:
    """An absolute http(s) URL with a plausible host and no whitespace or control characters."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return False
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a bad port
    except ValueError:
        return False
    del port
    host = parts.hostname or ""
    return (
        parts.scheme in ("http", "https")
        and bool(host)
        and _HOST.fullmatch(host if ":" not in host else f"[{host}]") is not None
    )


def parse_image_path(value: object) -> str | None:
    """``imagePath``: an http(s) URL up to 200 characters; ``null`` or ``""`` mean no image."""
    if value is None:
        return None
    text = parse_text(value, max_length=IMAGE_PATH_MAX, allow_blank=True)
    if text and not is_web_url(text):
        raise Invalid(INVALID_URL)
    return text


IMAGE_PATH: Final = Rule(
    parse_image_path,
    {"type": ["string", "null"], "maxLength": IMAGE_PATH_MAX, "pattern": WEB_URL_PATTERN},
)


# Longer than any key we issue (40, as DRF's) or import, short enough to refuse junk early.
_TOKEN_KEY = re.compile(r"[0-9A-Za-z]{1,128}")


def is_token_key(text: str) -> bool:
    """The shape of a login token key that this service looks up (DRF's keys included)."""
    return _TOKEN_KEY.fullmatch(text) is not None


_USERNAME_CHARACTERS = r"[\w.@+-]+"
_USERNAME = re.compile(_USERNAME_CHARACTERS)
# The characters \w admits whose NFKC form is not one character \w admits (fractions,
# ligatures, circled and parenthesized numbers, presentation forms, nukta letters): the
# rule refuses them or makes a name longer, so the schema leaves them out. Generated from
# Python's Unicode tables; tests/unit/test_body_schemas.py generates it again and compares.
# BMP ranges as \u escapes, the one astral run as single characters (no ranges), so that
# an ECMA-262 validator without the u flag reads the class too.
NOT_ONE_CHARACTER_ONCE_NORMALIZED: Final = (
    "\\u00BC-\\u00BE\\u0132-\\u0133\\u013F-\\u0140\\u0149\\u01C4-\\u01CC\\u01F1-\\u01F3\\u037A\\u0587"
    "\\u0675-\\u0678\\u0958-\\u095F\\u09DC-\\u09DD\\u09DF\\u0A33\\u0A36\\u0A59-\\u0A5B\\u0A5E"
    "\\u0B5C-\\u0B5D\\u0E33\\u0EB3\\u0EDC-\\u0EDD\\u0F43\\u0F4D\\u0F52\\u0F57\\u0F5C\\u0F69\\u1E9A"
    "\\u2150-\\u215F\\u2161-\\u2163\\u2165-\\u2168\\u216A-\\u216B\\u2171-\\u2173\\u2175-\\u2178"
    "\\u217A-\\u217B\\u2189\\u2469-\\u249B\\u309F\\u30FF\\u3220-\\u3229\\u3251-\\u325F\\u32B1-\\u32BF"
    "\\uFB00-\\uFB06\\uFB13-\\uFB17\\uFB1D\\uFB1F\\uFB2A-\\uFB36\\uFB38-\\uFB3C\\uFB3E\\uFB40-\\uFB41"
    "\\uFB43-\\uFB44\\uFB46-\\uFB4F\\uFBDD\\uFBEA-\\uFBFB\\uFC00-\\uFD3D\\uFD50-\\uFD8F\\uFD92-\\uFDC7"
    "\\uFDF0-\\uFDFB\\uFE70-\\uFE72\\uFE74\\uFE76-\\uFE7F\\uFEF5-\\uFEFC\\uFF9E-\\uFF9F"
    + "".join(map(chr, range(0x1F100, 0x1F10B)))
)
# In Python's regexes (what hypothesis generates from) \w is Unicode, so the pattern is the
# rule less the characters above; an ECMA-262 validator reads \w as ASCII: a subset there.
USERNAME_PATTERN: Final = f"^(?:(?![{NOT_ONE_CHARACTER_ONCE_NORMALIZED}])[\\w.@+-])+$"


def normalize_username(text: str) -> str:
    """Django's ``AbstractBaseUser.normalize_username``: Unicode NFKC, so that look-alike
    spellings (full-width ``ｃａｒｏｌ``, ligatures, mathematical letters, superscripts) are
    one name. Case is kept: usernames are case-sensitive, as Django's are (README)."""
    return unicodedata.normalize("NFKC", text)


def parse_username(value: object) -> str:
    """Django's rule: 1..150 letters, digits and ``@.+-_`` (Unicode letters and digits count),
    NFKC-normalized, after trimming surrounding whitespace as DRF does (the length and
    the characters are those of the normalized name, as Django checks them)."""
    if isinstance(value, str):
        value = normalize_username(value)
    text = parse_text(value, max_length=USERNAME_MAX, allow_blank=False)
    if _USERNAME.fullmatch(text) is None:
        raise Invalid(INVALID_USERNAME)
    return text


USERNAME: Final = Rule(
    parse_username, {"type": "string", "minLength": 1, "maxLength": USERNAME_MAX, "pattern": USERNAME_PATTERN}
)


@cache
def common_passwords() -> frozenset[str]:
    """Django's list of 20,000 common passwords (BSD licence, see data/NOTICE)."""
    data = resources.files("movierater_core").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode().splitlines())


def password_problems(password: str, username: str | None) -> list[str]:
    """Why ``password`` is refused (Django's four default validators); empty when it is fine."""
    problems = []  # in the order of Django's default validators
    if username and _too_similar(password, username):
        problems.append("The password is too similar to the username.")
    if len(password) < PASSWORD_MIN:
        problems.append(f"This password is too short. It must contain at least {PASSWORD_MIN} characters.")
    if password.lower().strip() in common_passwords():
        problems.append("This password is too common.")
    if password.isdigit():
        problems.append("This password is entirely numeric.")
    return problems


def _too_similar(password: str, username: str) -> bool:
    # Django's UserAttributeSimilarityValidator: the whole name or any word of it.
    lowered, name = password.lower(), username.lower()
    parts = {name, *re.split(r"\W+", name)} - {""}
    return any(difflib.SequenceMatcher(a=lowered, b=part).quick_ratio() >= 0.7 for part in parts)


def parse_password(value: object, *, username: str | None) -> str:
    """A new password: a string that passes :func:`password_problems`. Never stripped, but
    one of whitespace alone is blank (twelve spaces passed every one of Django's checks)."""
    text = parse_text(value, max_length=PASSWORD_MAX, allow_blank=False, strip=False)
    if not text.strip():
        raise Invalid(NOT_BLANK)
    problems = password_problems(text, username)
    if problems:
        raise Invalid(*problems)
    return text


# The policy's other checks (similarity, common, numeric) are beyond JSON Schema.
NEW_PASSWORD: Final = Rule(
    lambda value: parse_password(value, username=None),
    {"type": "string", "minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX, "pattern": NOT_BLANK_PATTERN},
)


# ---- request bodies ----------------------------------------------------------------------


class Need(enum.Enum):
    """When a field of a body must be given."""

    ALWAYS = "always"
    TO_CREATE = "to create"  # creating or replacing (POST, PUT), not changing (PATCH)
    NEVER = "never"


@frozen
class Field(Generic[T]):
    """One named member of a request body or query string."""

    name: str
    rule: Rule[T]
    need: Need = Need.NEVER
    description: str = ""

    def required(self, *, partial: bool) -> bool:
        return self.need is Need.ALWAYS or (self.need is Need.TO_CREATE and not partial)


@frozen
class Body:
    """The declaration of one request body (or query string): its fields in order, and the
    JSON Schema of rules across fields that its use case checks (e.g. ``dependentRequired``)."""

    fields: tuple[Field[Any], ...]
    across_fields: JsonSchema = field(factory=dict)

    @classmethod
    def of(cls, declaration: type, across_fields: JsonSchema | None = None) -> Body:
        """The body whose fields are the :class:`Field` attributes of ``declaration``, in order
        (a class, so that use cases take each field with its type: ``form.take(Movie.title)``)."""
        fields = tuple(value for value in vars(declaration).values() if isinstance(value, Field))
        return cls(fields, across_fields or {})

    def required(self, *, partial: bool) -> list[str]:
        return [f.name for f in self.fields if f.required(partial=partial)]


class Form:
    """Applies parsers to the fields of one request body and raises all errors at once.
    ``partial`` (PATCH) makes the fields that are needed only :attr:`Need.TO_CREATE` optional."""

    def __init__(self, data: object, *, partial: bool = False) -> None:
        if not isinstance(data, Mapping):
            name = "null" if data is None else type(data).__name__
            raise ValidationError.single(
                "non_field_errors", f"Invalid data. Expected a dictionary, but got {name}."
            )
        self.data: Mapping[str, object] = data
        self.partial = partial
        self.errors: dict[str, list[str]] = {}

    def has(self, name: str) -> bool:
        return name in self.data

    def take(self, field: Field[T], parse: Callable[[object], T] | None = None) -> T | Missing:
        """The parsed field, or ``MISSING`` when absent (an error if required) or invalid.
        ``parse`` replaces the field's rule where it depends on another field (the password's
        similarity to the username)."""
        name, parse = field.name, parse or field.rule.parse
        if name not in self.data:
            if field.required(partial=self.partial):
                self.errors[name] = [REQUIRED]
            return MISSING
        try:
            return parse(self.data[name])
        except Invalid as exc:
            self.errors[name] = exc.messages
            return MISSING

    def fail(self, name: str, *messages: str) -> None:
        self.errors.setdefault(name, []).extend(messages)

    def invalid(self) -> ValidationError:
        """The errors so far, to raise; a required field that is missing always left one."""
        return ValidationError(self.errors)

    def finish(self) -> None:
        if self.errors:
            raise self.invalid()
