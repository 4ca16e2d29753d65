"""The operator's actions on users: list, find, create, promote, demote, set a password, delete.

Every action takes the acting user and needs an admin. The ``movierater`` CLI acts as
:data:`SYSTEM`; the API (and the admin portal through it) acts as the admin signed in. Whoever acts, the last
admin can be neither demoted nor deleted: the admins are counted, their rows locked, in
the transaction that makes the change, so two operators demoting the last two admins at
once cannot leave none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from attrs import evolve

from movierater_core.errors import NotFound, ValidationError
from movierater_core.model import User
from movierater_core.ports import Database, PasswordHasher, ReadRepositories
from movierater_core.rules import Invalid, parse_password
from movierater_core.use_cases._common import require_admin, retrying
from movierater_core.use_cases.accounts import (
    LAST_ADMIN_DELETED,
    credentials_named,
    erase_user,
    parse_new_credentials,
    store_new_user,
)

T = TypeVar("T")

SYSTEM: Final = User(id=0, username="(system)", is_admin=True)
"""The actor of the server's command line. Whoever runs it holds the server's settings and
database credentials, so is trusted as an admin. Never stored: stored ids start at 1."""

LAST_ADMIN_DEMOTED: Final = "This is the last admin: promote another user before demoting this one."


class UserAdmin:
    """What Django's admin site did for users, for any admin actor."""

    def __init__(self, db: Database, hasher: PasswordHasher) -> None:
        self._db = db
        self._hasher = hasher

    def all_users(self, actor: User) -> Sequence[User]:
        require_admin(actor)
        with self._db.reading() as repos:
            return repos.users.list()

    def find_user(self, actor: User, username: str) -> User:
        require_admin(actor)
        with self._db.reading() as repos:
            return _named(repos, username)

    def create_user(self, actor: User, username: str, password: str, *, is_admin: bool) -> User:
        """A new user (an admin, for ``createsuperuser``), checked as a registration is."""
        require_admin(actor)
        username, password = parse_new_credentials(username, password)
        return store_new_user(self._db, self._hasher, username, password, is_admin=is_admin)

    def set_admin(self, actor: User, username: str, is_admin: bool) -> User:
        """Promote or demote a user (the CLI names them); the last admin stays one."""
        return self._set_admin(actor, lambda repos: _named(repos, username), is_admin)

    def set_admin_by_id(self, actor: User, user_id: int, is_admin: bool) -> User:
        """Promote or demote a user (the API's ``/api/users/{id}/promote/`` and ``/demote/``);
        the last admin stays one. Promoting an admin or demoting a plain user changes nothing."""
        return self._set_admin(actor, lambda repos: _by_id(repos, user_id), is_admin)

    def _set_admin(self, actor: User, find: Callable[[ReadRepositories], User], is_admin: bool) -> User:
        require_admin(actor)

        def work() -> User:
            with self._db.writing() as repos:
                # Counted before the user is read, so that a wait for the lock sees both as committed.
                admins = None if is_admin else repos.users.count_admins(for_update=True)
                user = find(repos)
                if user.is_admin and admins == 1:
                    raise ValidationError.single("non_field_errors", LAST_ADMIN_DEMOTED)
                if user.is_admin != is_admin:
                    repos.users.set_admin(user.id, is_admin)
            return evolve(user, is_admin=is_admin)

        return retrying(work)

    def set_password(self, actor: User, username: str, password: str) -> User:
        """Set a password that passes the policy and revoke every token of the user, as an
        operator does for a user locked out or compromised."""
        require_admin(actor)
        user = self.find_user(actor, username)
        checked = _field("password", lambda: parse_password(password, username=user.username))
        password_hash = self._hasher.hash(checked)  # slow on purpose: outside the transaction
        with self._db.writing() as repos:
            if repos.users.get(user.id) is None:
                raise _no_such_user(username)
            repos.users.set_password_hash(user.id, password_hash)
            repos.tokens.delete_for_user(user.id)
        return user

    def remove_user(self, actor: User, username: str) -> User:
        """Delete a user with their tokens and ratings, as deleting an account does; the last
        admin stays."""
        require_admin(actor)

        def work() -> User:
            with self._db.writing() as repos:
                admins = repos.users.count_admins(for_update=True)  # first: as in set_admin
                user = _named(repos, username)
                if user.is_admin and admins == 1:
                    raise ValidationError.single("non_field_errors", LAST_ADMIN_DELETED)
                erase_user(repos, user.id)
            return user

        return retrying(work)


def _named(repos: ReadRepositories, username: str) -> User:
    found = credentials_named(repos, username)
    if found is None:
        raise _no_such_user(username)
    return found[0]


def _by_id(repos: ReadRepositories, user_id: int) -> User:
    found = repos.users.get(user_id)
    if found is None:
        raise NotFound
    return found


def _no_such_user(username: str) -> NotFound:
    return NotFound(f"No user named {username!r}.")


def _field(name: str, parse: Callable[[], T]) -> T:
    """A typed value through its rule, a broken rule as the field's ValidationError."""
    try:
        return parse()
    except Invalid as exc:
        raise ValidationError({name: exc.messages}) from None
