"""Poster uploads: grant direct-to-storage upload URLs, check what arrived, clean up strays."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from attrs import frozen

from movierater_core.errors import NotAuthenticated, RateLimited, ValidationError
from movierater_core.missing import MISSING, Missing
from movierater_core.model import User
from movierater_core.ports import Clock, Database, ImageInspector, ImageStorage
from movierater_core.throttling import Limit
from movierater_core.uploads import (
    GRANT_WINDOW_SECONDS,
    GRANTS_PER_HOUR,
    HEAD_BYTES,
    UploadTicket,
    image_problem,
    is_object_name,
    parse_upload_request,
)

NOT_UPLOADED = "The uploaded image was not found: upload the file first."

# Upload URLs per user: a grant counts for exactly one hour, (now - 1 h, now].
UPLOAD_GRANTS = Limit("upload-grants", GRANTS_PER_HOUR, timedelta(seconds=GRANT_WINDOW_SECONDS))


@frozen
class UploadSettings:
    """The default here is the service's: its MOVIERATER_* setting takes it from here."""

    url_ttl: int = 3600  # seconds an upload URL stays valid


@frozen
class UploadOffer:
    """The answer to a request for an upload URL; ``ticket`` is None when deduplicated."""

    name: str
    key: str  # where storage keeps it (the S3 object key)
    public_url: str
    ticket: UploadTicket | None
    uploads_remaining: int
    deduplicated: bool
    expires_in: int | None


class Uploads:
    def __init__(
        self,
        db: Database,
        storage: ImageStorage,
        inspector: ImageInspector,
        clock: Clock,
        settings: UploadSettings,
    ) -> None:
        self._db = db
        self._storage = storage
        self._inspector = inspector
        self._clock = clock
        self._settings = settings

    def request_upload_url(self, actor: User, data: object) -> UploadOffer:
        """Grant an upload URL (at most 10 per user per rolling hour), or, when the file's
        hash names an object that is already stored and verified, no upload at all."""
        request = parse_upload_request(data)
        name = request.object_name(secrets.token_hex(16))
        if request.sha256 is not None and self._already_stored(name):
            with self._db.reading() as repos:
                recent = repos.grants.granted_after(actor.id, UPLOAD_GRANTS.start(self._clock.now()))
            return UploadOffer(
                name=name,
                key=self._storage.key(name),
                public_url=self._storage.public_url(name),
                ticket=None,
                uploads_remaining=UPLOAD_GRANTS.remaining(recent),
                deduplicated=True,
                expires_in=None,
            )
        now = self._clock.now()
        since = UPLOAD_GRANTS.start(now)
        with self._db.writing() as repos:
            if not repos.grants.lock_user(actor.id):  # concurrent requests queue here: no overshoot
                raise NotAuthenticated(NotAuthenticated.INVALID_TOKEN)  # deleted since the token's check
            repos.grants.forget_until(actor.id, since)
            recent = repos.grants.granted_after(actor.id, since)
            wait = UPLOAD_GRANTS.retry_after(recent, now)
            if wait is not None:
                raise RateLimited(
                    f"Upload limit reached: {GRANTS_PER_HOUR} upload URLs per hour. Try again later.",
                    retry_after=wait,
                )
            repos.grants.add(actor.id, name, now)
        ticket = self._storage.presign_upload(  # signing is local work: it cannot fail here
            name,
            content_type=request.content_type,
            size=request.size,
            sha256=request.sha256,
            expires_in=self._settings.url_ttl,
        )
        return UploadOffer(
            name=name,
            key=self._storage.key(name),
            public_url=self._storage.public_url(name),
            ticket=ticket,
            uploads_remaining=UPLOAD_GRANTS.remaining(recent) - 1,
            deduplicated=False,
            expires_in=self._settings.url_ttl,
        )

    def check_poster(self, image_path: str | None | Missing) -> None:
        """Before a URL becomes a movie's image: if it points into our storage, the object
        must exist and really be an image of its type; one that is not is deleted.
        External URLs pass unchanged, and so does no image or none given."""
        if image_path is MISSING or not image_path:
            return
        name = self._storage.name_for_url(image_path)
        if name is None:
            return
        problem = self._verify(name)
        if problem is not None:
            raise ValidationError.single("imagePath", problem)

    def collect_garbage(self, older_than: timedelta) -> Sequence[str]:
        """Delete stored objects no movie uses that are older than ``older_than``."""
        cutoff = self._clock.now() - older_than
        with self._db.reading() as repos:
            # By name alone, whatever host the URL was stored with (the public URL may
            # have changed since): when in doubt, keep the object.
            referenced = {
                name
                for path in repos.images.referenced_image_paths()
                if is_object_name(name := path.rstrip("/").rsplit("/", 1)[-1])
            }
        removed = []
        for stored in self._storage.list_objects():
            if stored.name not in referenced and stored.modified < cutoff:
                self._storage.delete(stored.name)
                with self._db.writing() as repos:
                    repos.images.forget(stored.name)
                removed.append(stored.name)
        return removed

    def _already_stored(self, name: str) -> bool:
        """A content-addressed object is there and is (or now proves to be) a real image."""
        with self._db.reading() as repos:
            verified = repos.images.is_verified(name)
        if verified and self._storage.exists(name):
            return True
        if not verified and self._storage.exists(name):
            return self._verify(name) is None  # an invalid one is deleted: upload afresh
        return False

    def _verify(self, name: str) -> str | None:
        head = self._storage.read_head(name, HEAD_BYTES)
        if head is None:
            return NOT_UPLOADED
        problem = image_problem(self._inspector.inspect(head), name.rsplit(".", 1)[-1])
        if problem is not None:
            self._storage.delete(name)
            with self._db.writing() as repos:
                repos.images.forget(name)
            return problem
        self._storage.mark_in_use(name)
        with self._db.writing() as repos:
            repos.images.mark_verified(name, self._clock.now())
        return None
