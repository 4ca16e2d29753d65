"""argon2id's cost comes from the settings (MOVIERATER_PASSWORD_HASH_*): hashes are made at
it, and a hash made at another cost still verifies but needs a rehash, so that a user's
next login stores one at the cost chosen now."""

from __future__ import annotations

from movierater_entrypoints.bootstrap import password_hasher
from movierater_entrypoints.settings import Settings

from tests.world import CHEAP_PASSWORD_HASHING as CHEAP

PASSWORD = "correct horse battery"


def test_hashes_are_made_at_the_cost_the_settings_choose() -> None:
    default = password_hasher(Settings.from_env({})).hash(PASSWORD)
    cheap = password_hasher(Settings.from_env(CHEAP)).hash(PASSWORD)
    assert default.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # RFC 9106's low-memory profile
    assert cheap.startswith("$argon2id$v=19$m=19456,t=2,p=4$")


def test_a_hash_made_at_another_cost_verifies_and_is_due_for_a_rehash() -> None:
    before = password_hasher(Settings.from_env({}))
    after = password_hasher(Settings.from_env(CHEAP))
    old = before.hash(PASSWORD)
    assert after.verify(old, PASSWORD) and not after.verify(old, PASSWORD + "!")
    assert after.needs_rehash(old) and not before.needs_rehash(old)
    assert not after.needs_rehash(after.hash(PASSWORD))
