"""Django's password hashes verify in our hasher and are then replaced by argon2id.

The vectors were made once by Django 5.1.13 itself (``make_password`` and its PBKDF2
hashers' ``encode`` with fewer iterations, to keep the test fast); one has Django 5.1's
default of 870,000 iterations, as the original's users have.
"""

from __future__ import annotations

import pytest
from movierater_adapters.passwords import Argon2Hasher

PASSWORD = "correct horse battery"
DJANGO_DEFAULT = "pbkdf2_sha256$870000$Qw3rTy7uI9oPaSdF$hmnin2h4WsJvAzZhSZGl9t3lN2LuYE/yfZ03VVFuNL8="
VECTORS = [
    (PASSWORD, "pbkdf2_sha256$1000$smallsalt123$Z565k2wskVin+MKGAKhXtTT94ncEUiZnJVuyBH1P7h0="),
    ("ünïcødé pässwörd", "pbkdf2_sha256$1200$UniSalt0987$91bwkXnb3uRMFR2yzh4x1VFLrMgevHO2UP1cwzDgH2Q="),
    (PASSWORD, "pbkdf2_sha1$1000$sha1salt$Nnhsq2VjjUXRKU+FmPwnWlytzh4="),
    (
        "x",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$Y1JQUkp1VDhvck9RdGVna25IdXJzbw$JviqADmoWMTiDHeA+XPe/8XNVLDCkDM5l7wQksHsPEA",
    ),
]
UNUSABLE = "!AcHyDA8l4NjoaFGlWuKlitj75u3A1hBxjFg8kFnP"  # make_password(None)

hasher = Argon2Hasher()


@pytest.mark.parametrize(("password", "encoded"), VECTORS)
def test_django_hashes_verify_the_right_password_only(password: str, encoded: str) -> None:
    assert hasher.recognises(encoded)
    assert hasher.verify(encoded, password)
    assert not hasher.verify(encoded, password + "!")
    assert not hasher.verify(encoded, "")
    assert hasher.needs_rehash(encoded)  # the first login stores argon2id instead


def test_django_default_iterations() -> None:
    assert hasher.verify(DJANGO_DEFAULT, PASSWORD)
    assert not hasher.verify(DJANGO_DEFAULT, PASSWORD.upper())


def test_an_unusable_password_matches_nothing() -> None:
    assert hasher.recognises(UNUSABLE)
    for attempt in ("", UNUSABLE, UNUSABLE[1:], PASSWORD):
        assert not hasher.verify(UNUSABLE, attempt)
    # an inactive user's hash, disabled on import by a leading "!"
    assert not hasher.verify("!" + VECTORS[0][1], PASSWORD)


@pytest.mark.parametrize(
    "broken",
    [
        "pbkdf2_sha256$abc$salt$hash",  # iterations not a number
        "pbkdf2_sha256$0$salt$Z565k2wskVin+MKGAKhXtTT94ncEUiZnJVuyBH1P7h0=",
        "pbkdf2_sha256$99999999999$salt$x",  # would stall the login
        "pbkdf2_sha256$1000$smallsalt123",  # a part missing
        "argon2$argon2id$garbage",
    ],
)
def test_malformed_django_hashes_never_match_nor_raise(broken: str) -> None:
    assert not hasher.verify(broken, PASSWORD)


def test_formats_it_cannot_verify_are_not_recognised() -> None:
    assert not hasher.recognises("bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuv")
    assert not hasher.recognises("md5$salt$0123456789abcdef")
    assert hasher.recognises(hasher.hash(PASSWORD))
    assert not hasher.needs_rehash(hasher.hash(PASSWORD))
