"""Accounts: registration, login tokens, and what users may do to their own account (the
operator's actions on any user are :mod:`~movierater_core.use_cases.user_admin`'s)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import Final

from attrs import frozen

from movierater_core.errors import (
    DomainError,
    NotAuthenticated,
    NotFound,
    ReferenceGone,
    UsernameTaken,
    ValidationError,
)
from movierater_core.missing import MISSING
from movierater_core.model import Profile, SummaryDelta, User, UserView
from movierater_core.paging import (
    DEFAULT_PAGING,
    PAGE_FIELDS,
    Page,
    PageSettings,
    fetch_page,
    page_of,
    take_window,
)
from movierater_core.ports import (
    Clock,
    Database,
    PasswordHasher,
    ReadRepositories,
    Repositories,
    TokenIssuer,
)
from movierater_core.rules import (
    BAD_CREDENTIALS,
    NEW_PASSWORD,
    PASSWORD_MAX,
    PASSWORD_MIN,
    USER_INCLUDE,
    USER_SEARCH,
    USERNAME,
    USERNAME_MAX,
    USERNAME_TAKEN,
    Body,
    Field,
    Form,
    Invalid,
    Need,
    is_token_key,
    normalize_username,
    parse_password,
    parse_username,
    text_rule,
)
from movierater_core.throttling import NOTHING_RESERVED, Limit, Reservation, Throttle
from movierater_core.use_cases._common import require_self_or_admin, retrying


@frozen
class AccountSettings:
    """The defaults here are the service's: its MOVIERATER_* settings take them from here."""

    token_ttl: int = 30 * 86400  # seconds a token lives after its last use
    login_failures_per_address: int = 50  # per 15 minutes, whatever the usernames
    registrations_per_address: int = 20  # per hour


class UsersQuery:
    """The users list's search and what its rows carry (a query string); with the paging
    fields (``PageQuery``)."""

    search = Field(
        "search",
        USER_SEARCH,
        description=(
            "Only users whose username contains this text, case-insensitively (% and _ are plain "
            "characters); trimmed; empty: every user. A non-admin's list of themself is searched too."
        ),
    )
    include = Field(
        "include",
        USER_INCLUDE,
        description="`is_admin`: each user also carries `is_admin`, whether they are an admin.",
    )


USERS_QUERY: Final = Body((*PAGE_FIELDS, UsersQuery.search, UsersQuery.include))


class UserInput:
    """A user's body: registering and replacing (PUT) need both fields, PATCH either."""

    username = Field(
        "username",
        USERNAME,
        need=Need.TO_CREATE,
        description=(
            "Letters, digits and @/./+/-/_ (non-ASCII letters and digits are accepted too); "
            "surrounding whitespace is trimmed; Unicode NFKC-normalized, as Django does (so "
            "full-width or other look-alike spellings are the same name); case-sensitive; unique."
        ),
    )
    password = Field(
        "password",
        NEW_PASSWORD,  # taken with the username at hand, for the similarity check
        need=Need.TO_CREATE,
        description=(
            f"Django's default policy: at least {PASSWORD_MIN} characters, not entirely numeric, "
            "not too similar to the username, not among 20,000 common passwords. Never trimmed."
        ),
    )


class CredentialsInput:
    """A login: checked for shape only (trimmed username, untrimmed password)."""

    username = Field(
        "username",
        text_rule(USERNAME_MAX),
        need=Need.ALWAYS,
        description="Trimmed; a name stored as given, else its NFKC form (as registration stores it).",
    )
    password = Field("password", text_rule(PASSWORD_MAX, strip=False), need=Need.ALWAYS)


USER_BODY: Final = Body.of(UserInput)
CREDENTIALS_BODY: Final = Body.of(CredentialsInput)


LAST_ADMIN_DELETED: Final = "This is the last admin: promote another user before deleting this one."

# Failed logins for one username: 5 in 15 minutes, then every attempt is refused for the
# rest of the window, even with the right password.
LOGIN_FAILURES_PER_USERNAME = Limit("login-username", 5, timedelta(minutes=15))


# How often a login checks its password again when the stored hash changed between its
# check and its token (a rehash by a concurrent login, a password change) before it fails.
CHANGED_MEANWHILE_ROUNDS = 3


def _bad_credentials() -> ValidationError:
    return ValidationError.single("non_field_errors", BAD_CREDENTIALS)


# A token's last use is recorded at most this often: a write on every request would
# cost more than the request, and a day-long TTL does not need finer steps. A short TTL
# does: its steps are a tenth of it, so that a token in use never goes stale.
TOUCH_INTERVAL = timedelta(minutes=10)
TOUCHES_PER_TTL = 10


class TokenCheck:
    """Who a token key says is asking: the token rules, apart from how its holder is read, so
    that a read may look the token up in the same statement as its data (``holder``)."""

    def __init__(self, db: Database, tokens: TokenIssuer, clock: Clock, settings: AccountSettings) -> None:
        self._db = db
        self._tokens = tokens
        self._clock = clock
        self._ttl = timedelta(seconds=settings.token_ttl)
        self._touch_interval = min(TOUCH_INTERVAL, self._ttl / TOUCHES_PER_TTL)

    def authenticate(self, key: str) -> User:
        """The user a token key belongs to; :class:`NotAuthenticated` otherwise.

        A token expires when unused for the configured TTL; each use slides the expiry.
        """
        digest = self.digest(key)
        with self._db.reading() as repos:
            found = repos.tokens.user_for(digest)
        return self.holder(digest, found)

    def digest(self, key: str) -> str:
        """What storage looks a key up by; :class:`NotAuthenticated` for what is no key."""
        if not is_token_key(key):
            raise NotAuthenticated(NotAuthenticated.INVALID_TOKEN)
        return self._tokens.digest(key)

    def alive_since(self, now: datetime) -> datetime:
        """The earliest last use of a token that is alive at ``now`` (``holder`` at the same
        ``now`` accepts exactly those): a statement that checks the token itself writes only
        for such a token."""
        return now - self._ttl

    def holder(
        self, digest: str, found: tuple[User, datetime | None] | None, *, now: datetime | None = None
    ) -> User:
        """The user of a token as ``tokens.user_for(digest)`` found it: :class:`NotAuthenticated`
        if there is none or it expired (then deleted); its use recorded when due. ``now``:
        the time the token was judged alive at where it was read (``alive_since``)."""
        if found is None:
            raise NotAuthenticated(NotAuthenticated.INVALID_TOKEN)
        user, last_used = found
        if now is None:
            now = self._clock.now()
        if last_used is not None and last_used < self.alive_since(now):
            with self._db.writing() as repos:
                repos.tokens.delete(digest)
            raise NotAuthenticated(NotAuthenticated.INVALID_TOKEN)
        if last_used is None or now - last_used > self._touch_interval:
            with self._db.writing() as repos:
                repos.tokens.touch(digest, now)
        return user


class Accounts:
    """Use cases about users and their credentials."""

    def __init__(
        self,
        db: Database,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
        clock: Clock,
        settings: AccountSettings,
        paging: PageSettings = DEFAULT_PAGING,
    ) -> None:
        self._db = db
        self._paging = paging
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._token_check = TokenCheck(db, tokens, clock, settings)
        self._throttle = Throttle(db, clock)
        self._login_per_address = Limit(
            "login-address", settings.login_failures_per_address, timedelta(minutes=15)
        )
        self._registrations_per_address = Limit(
            "register-address", settings.registrations_per_address, timedelta(hours=1)
        )

    # ---- registration and credentials ----------------------------------------------------

    def register(self, data: object, *, is_admin: bool = False, client: str = "") -> User:
        """Create a user from ``{username, password}``; the password must pass the policy.
        ``client`` (the caller's address, if known) is limited in registrations per hour:
        the registration is counted before it is made (so that concurrent ones cannot
        overshoot), and un-counted if it is refused."""
        reservation = (
            retrying(lambda: self._throttle.reserve((self._registrations_per_address, client)))
            if client
            else NOTHING_RESERVED
        )
        try:
            form = Form(data)
            username = form.take(UserInput.username)
            name_for_policy = None if username is MISSING else username
            password = form.take(UserInput.password, lambda v: parse_password(v, username=name_for_policy))
            if username is MISSING or password is MISSING:  # each left its error
                raise form.invalid()
            return store_new_user(self._db, self._hasher, username, password, is_admin=is_admin)
        except BaseException:
            with suppress(DomainError):  # the database is gone too: the first error is the answer
                self._throttle.release(reservation)
            raise

    def log_in(self, data: object, *, client: str = "") -> str:
        """Check ``{username, password}`` and issue a new token key.

        An unknown username costs one hash verification too, so that timing does not
        tell which usernames exist; both failures give the same answer. Failures are
        limited per username and per ``client`` address, the same way whether or not
        the username exists: each attempt is counted before its password is checked (so
        N concurrent guesses get exactly the limit's checks) and un-counted when the
        password is right.

        A token is issued only while the password hash that was checked is still the one
        stored, checked with the user's row locked: a password change that has returned
        leaves no token of the old password behind, however the two raced.
        """
        form = Form(data)
        username = form.take(CredentialsInput.username)  # trimmed, as DRF's login serializer does
        password = form.take(CredentialsInput.password)
        if username is MISSING or password is MISSING:  # each left its error
            raise form.invalid()
        # Failures count against the normalized name: every spelling shares one budget.
        limits = [(LOGIN_FAILURES_PER_USERNAME, normalize_username(username))]  # this order: see reserve
        if client:
            limits.append((self._login_per_address, client))
        reservation = retrying(lambda: self._throttle.reserve(*limits))
        with self._db.reading() as repos:
            found = credentials_named(repos, username)
        if found is None:
            self._hasher.verify(self._dummy_hash, password)
            raise _bad_credentials()  # the reservation stays: it is the failure
        user, password_hash = found
        for _ in range(CHANGED_MEANWHILE_ROUNDS):
            if not self._hasher.verify(password_hash, password):
                raise _bad_credentials()
            rehashed = self._hasher.hash(password) if self._hasher.needs_rehash(password_hash) else None
            key = self._tokens.new_key()
            stored = retrying(partial(self._issue, user.id, password_hash, rehashed, key, reservation))
            if stored == password_hash:
                return key
            if stored is None:  # deleted meanwhile
                raise _bad_credentials()
            password_hash = stored  # changed meanwhile: the password must match the new hash
        raise _bad_credentials()

    def _issue(
        self, user_id: int, checked: str, rehashed: str | None, key: str, reservation: Reservation
    ) -> str | None:
        """Store a token for ``key`` (and un-count the attempt) if the user's stored hash is
        still ``checked``; the hash stored now either way (None: the user is gone)."""
        try:
            with self._db.writing() as repos:
                stored = repos.users.lock_credentials(user_id)
                if stored == checked:
                    if rehashed is not None:
                        repos.users.set_password_hash(user_id, rehashed)
                    repos.tokens.add(self._tokens.digest(key), user_id, self._clock.now())
                    self._throttle.release(reservation, repos)
        except ReferenceGone:  # deleted after the lock was read: as if just after the deletion
            return None
        return stored

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash("timing equaliser for unknown usernames")

    def log_out(self, key: str) -> None:
        """Revoke the token with this key (nothing happens for an unknown key)."""
        with self._db.writing() as repos:
            repos.tokens.delete(self._tokens.digest(key))

    def authenticate(self, key: str) -> User:
        """The user a token key belongs to; :class:`NotAuthenticated` otherwise (``TokenCheck``)."""
        return self._token_check.authenticate(key)

    # ---- managing users ------------------------------------------------------------------

    def list_users(
        self, actor: User, query: Mapping[str, object] | None = None
    ) -> Page[User] | Page[UserView]:
        """Every user for an admin; anyone else sees a list of themself alone (a user is
        theirs or an admin's to read, and the original Angular client lists to find itself).
        A page of it, by id: the first, of at most the maximum page size, unless ``query`` pages;
        those whose username holds ``?search=``; with ``?include=is_admin``, each with their role."""
        form = Form(query or {})
        window = take_window(form, self._paging)
        search = form.take(UsersQuery.search)
        include = form.take(UsersQuery.include)
        form.finish()
        text = "" if search is MISSING else search
        if not actor.is_admin:
            page = page_of([actor] if text.lower() in actor.username.lower() else [], window)
        else:
            with self._db.reading() as repos:
                page = fetch_page(
                    window,
                    lambda limit, offset: repos.users.page(limit, offset, search=text),
                    lambda: repos.users.count(search=text),
                )
        if include is MISSING:
            return page
        return Page([UserView(user) for user in page.items], page.total, page.window)

    def me(self, actor: User) -> Profile:
        """The signed-in user as they see themself (``GET /api/users/me/``), admin or not.
        An account deleted since its token was checked is 401, as the next request gets."""
        with self._db.reading() as repos:
            profile = repos.users.profile(actor.id)
        if profile is None:
            raise NotAuthenticated(NotAuthenticated.INVALID_TOKEN)
        return profile

    def get_user(self, actor: User, user_id: int) -> User:
        require_self_or_admin(actor, user_id)
        with self._db.reading() as repos:
            user = repos.users.get(user_id)
        if user is None:
            raise NotFound
        return user

    def update_user(
        self,
        actor: User,
        user_id: int,
        data: object,
        *,
        partial: bool,
        current_key: str | None = None,
    ) -> User:
        """Change username and/or password (PUT needs both, PATCH either).

        A password change revokes every other token of the user; the token used for
        this request survives when users change their own password.
        """
        current = self.get_user(actor, user_id)
        form = Form(data, partial=partial)
        username = form.take(UserInput.username)
        name_for_policy = current.username if username is MISSING else username
        password = form.take(UserInput.password, lambda v: parse_password(v, username=name_for_policy))
        form.finish()
        password_hash = None if password is MISSING else self._hasher.hash(password)
        keep = self._tokens.digest(current_key) if current_key is not None and actor.id == user_id else None
        try:
            with self._db.writing() as repos:
                # Locked as a deletion locks it first: one racing this change ends before it
                # (404 here) or waits until the change is done.
                if repos.users.get(user_id, for_update=True) is None:
                    raise NotFound
                if username is not MISSING and username != current.username:
                    repos.users.rename(user_id, username)
                if password_hash is not None:
                    repos.users.set_password_hash(user_id, password_hash)
                    repos.tokens.delete_for_user(user_id, keep=keep)
                updated = repos.users.get(user_id)
        except UsernameTaken:
            raise ValidationError.single("username", USERNAME_TAKEN) from None
        assert updated is not None
        return updated

    def delete_user(self, actor: User, user_id: int) -> None:
        """Delete a user with their tokens and ratings, fixing those movies' summaries."""
        require_self_or_admin(actor, user_id)
        self._delete(user_id)

    def _delete(self, user_id: int) -> None:
        def work() -> None:
            with self._db.writing() as repos:
                # The operator's rule (UserAdmin.remove_user) holds here too: the last admin
                # deleting themself would leave nobody to run the service from the API.
                admins = repos.users.count_admins(for_update=True)  # first: as UserAdmin does
                user = repos.users.get(user_id)
                if user is None:
                    raise NotFound
                if user.is_admin and admins == 1:
                    raise ValidationError.single("non_field_errors", LAST_ADMIN_DELETED)
                erase_user(repos, user_id)

        retrying(work)


# ---- shared with the operator's actions (UserAdmin) --------------------------------------


def parse_new_credentials(username: str, password: str) -> tuple[str, str]:
    """A new user's username and password held as values (the CLI's), checked by the rules
    :meth:`Accounts.register` applies to a body: every field's errors at once."""
    errors: dict[str, list[str]] = {}
    try:
        username = parse_username(username)
    except Invalid as exc:
        errors["username"] = exc.messages
    try:
        parse_password(password, username=None if "username" in errors else username)
    except Invalid as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return username, password


def credentials_named(repos: ReadRepositories, username: str) -> tuple[User, str] | None:
    """The user a typed name means: the one stored under exactly that name (a name stored
    before names were normalized keeps working), else the one under its NFKC form, which
    is how every name is stored now (so ``ｃａｒｏｌ`` logs in as ``carol``)."""
    found = repos.users.credentials(username)
    normalized = normalize_username(username)
    if found is None and normalized != username:
        found = repos.users.credentials(normalized)
    return found


def store_new_user(
    db: Database, hasher: PasswordHasher, username: str, password: str, *, is_admin: bool
) -> User:
    """Add a user whose username and password passed the rules; a taken username is the
    username field's error."""
    password_hash = hasher.hash(password)  # slow on purpose: outside the transaction
    try:
        with db.writing() as repos:
            return repos.users.add(username, password_hash, is_admin=is_admin)
    except UsernameTaken:
        raise ValidationError.single("username", USERNAME_TAKEN) from None


def erase_user(repos: Repositories, user_id: int) -> None:
    """Delete a user with their ratings (fixing those movies' summaries), tokens and upload
    grants, inside the caller's transaction.

    Locks in the order the other writers do: the user's row first (a concurrent login,
    upload grant or first rating by the user then waits, and finds the user gone), then
    the rated movies' rows in id order (as raters lock a movie before its ratings), then
    the ratings, read again under those locks for their current stars.
    """
    repos.users.get(user_id, for_update=True)
    for movie_id in sorted({rating.movie_id for rating in repos.ratings.list(user_id=user_id)}):
        repos.movies.get(movie_id, for_update=True)
    for rating in repos.ratings.list(user_id=user_id, for_update=True):
        repos.ratings.delete(rating.id)
        repos.movies.adjust_ratings(rating.movie_id, SummaryDelta.removed(rating.stars))
    repos.tokens.delete_for_user(user_id)
    repos.grants.delete_for_user(user_id)
    repos.users.delete(user_id)


def check_password(password: str, username: str | None) -> list[str]:
    """The policy's complaints about a password, for prompts that ask again (CLI)."""
    try:
        parse_password(password, username=username)
    except Invalid as exc:
        return exc.messages
    return []
