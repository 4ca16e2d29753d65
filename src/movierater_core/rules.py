"""Every input rule of the service, in one place.

Each ``parse_*`` function takes a raw value as decoded from JSON (any type at all) and
returns a clean value, or raises :class:`Invalid` with the message a client sees. The
messages are Django REST Framework's, because deployed clients show them.
:class:`Form` applies parsers to a request body and collects the errors per field.
"""

from __future__ import annotations

import difflib
import gzip
import re
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Final, TypeVar
from urllib.parse import urlsplit

from movierater_core.errors import ValidationError
from movierater_core.model import MAX_STARS, MIN_STARS, Stars

T = TypeVar("T")

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


def parse_id(value: object) -> int:
    """An id given as a number or a decimal string (as query parameters are)."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,10}", value.strip()):
        value = int(value)
    return parse_int(value, minimum=1, maximum=ID_MAX)


# ---- domain fields -----------------------------------------------------------------------


def parse_stars(value: object) -> Stars:
    return Stars(parse_int(value, minimum=MIN_STARS, maximum=MAX_STARS))


def parse_title(value: object) -> str:
    return parse_text(value, max_length=TITLE_MAX, allow_blank=False)


def parse_description(value: object) -> str:
    return parse_text(value, max_length=DESCRIPTION_MAX, allow_blank=True)


_HOST = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?"  # names
    r"|\d{1,3}(?:\.\d{1,3}){3}"  # IPv4
    r"|\[[0-9a-f:.]+\]",  # IPv6
    re.IGNORECASE,
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


# Longer than any key we issue (40, as DRF's) or import, short enough to refuse junk early.
_TOKEN_KEY = re.compile(r"[0-9A-Za-z]{1,128}")


def is_token_key(text: str) -> bool:
    """The shape of a login token key that this service looks up (DRF's keys included)."""
    return _TOKEN_KEY.fullmatch(text) is not None


_USERNAME = re.compile(r"[\w.@+-]+")


def parse_username(value: object) -> str:
    """Django's rule: 1..150 letters, digits and ``@.+-_`` (Unicode letters and digits count),
    after trimming surrounding whitespace as DRF does."""
    text = parse_text(value, max_length=USERNAME_MAX, allow_blank=False)
    if _USERNAME.fullmatch(text) is None:
        raise Invalid(INVALID_USERNAME)
    return text


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
    """A new password: a string that passes :func:`password_problems`. Never stripped."""
    text = parse_text(value, max_length=PASSWORD_MAX, allow_blank=False, strip=False)
    problems = password_problems(text, username)
    if problems:
        raise Invalid(*problems)
    return text


# ---- request bodies ----------------------------------------------------------------------


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class Form:
    """Applies parsers to the fields of one request body and raises all errors at once."""

    def __init__(self, data: object) -> None:
        if not isinstance(data, Mapping):
            name = "null" if data is None else type(data).__name__
            raise ValidationError.single(
                "non_field_errors", f"Invalid data. Expected a dictionary, but got {name}."
            )
        self.data: Mapping[str, object] = data
        self.errors: dict[str, list[str]] = {}

    def has(self, name: str) -> bool:
        return name in self.data

    def take(self, name: str, parse: Callable[[object], T], *, required: bool) -> T | _Missing:
        """The parsed field, or ``MISSING`` when absent and not required (then no error)."""
        if name not in self.data:
            if required:
                self.errors[name] = [REQUIRED]
            return MISSING
        try:
            return parse(self.data[name])
        except Invalid as exc:
            self.errors[name] = exc.messages
            return MISSING

    def fail(self, name: str, *messages: str) -> None:
        self.errors.setdefault(name, []).extend(messages)

    def finish(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)
