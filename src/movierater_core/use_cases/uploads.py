"""Poster uploads: grant direct-to-storage upload URLs, check what arrived, clean up strays."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property

from attrs import evolve, frozen

from movierater_core.errors import NotAuthenticated, RateLimited, ValidationError
from movierater_core.missing import MISSING, Missing
from movierater_core.model import MovieFields, User
from movierater_core.own_urls import OwnStorage, object_names_in
from movierater_core.ports import Clock, Database, ImageInspector, ImageStorage
from movierater_core.rules import IMAGE_PATH_MAX
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
REJECTED = "This upload was refused by the content check; its upload URL is spent: upload the file again."
REJECTED_HASH = "A file with this hash was refused by the content check: it is not a valid image of its type."
TOO_LONG = f"This image's URL in our storage is longer than {IMAGE_PATH_MAX} characters."

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

    @cached_property
    def _own(self) -> OwnStorage:
        """Our storage's URL styles, asked for at first use (building the app touches no adapter)."""
        return OwnStorage(self._storage.object_bases())

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
        # Signed before the grant is counted: storage that cannot take the upload (S3: a
        # bucket that is not there) answers ServiceUnavailable and costs the user no grant.
        ticket = self._storage.presign_upload(
            name,
            content_type=request.content_type,
            size=request.size,
            sha256=request.sha256,
            expires_in=self._settings.url_ttl,
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
        return UploadOffer(
            name=name,
            key=self._storage.key(name),
            public_url=self._storage.public_url(name),
            ticket=ticket,
            uploads_remaining=UPLOAD_GRANTS.remaining(recent) - 1,
            deduplicated=False,
            expires_in=self._settings.url_ttl,
        )

    def check_poster(self, image_path: str | None | Missing) -> str | None | Missing:
        """Before a URL becomes a movie's image: if it leads into our storage, in any
        spelling, it must name an object that exists and really is an image of its type
        (one that is not is deleted and its name spent), and what is stored is the object's
        canonical public URL. External URLs pass unchanged, and so does no image or none given."""
        if image_path is MISSING or not image_path:
            return image_path
        own = self._own.classify(image_path)
        if own is None:
            return image_path
        if own.name is None:
            raise ValidationError.single("imagePath", NOT_UPLOADED)
        problem = self._verify(own.name)
        if problem is not None:
            raise ValidationError.single("imagePath", problem)
        canonical = self._storage.public_url(own.name)
        if len(canonical) > IMAGE_PATH_MAX:  # a short spelling of a long canonical URL
            raise ValidationError.single("imagePath", TOO_LONG)
        return canonical

    def with_checked_poster(self, fields: MovieFields) -> MovieFields:
        """``fields`` with its image checked (:meth:`check_poster`) and in canonical spelling."""
        return evolve(fields, image_path=self.check_poster(fields.image_path))

    def upload_refused(self, name: str) -> bool:
        """For storage that receives uploads itself: the name's object was refused by the
        content check, so its upload URL is spent (S3 cannot ask: see collect_garbage)."""
        if not is_object_name(name):
            return False  # storage refuses it anyway: no name we hand out
        with self._db.reading() as repos:
            return repos.images.is_rejected(name)

    def collect_garbage(self, older_than: timedelta) -> Sequence[str]:
        """Delete stored objects no movie refers to that are older than ``older_than``, and
        at once any that landed under a spent name (an upload URL used again after its
        object was refused)."""
        cutoff = self._clock.now() - older_than
        with self._db.reading() as repos:
            paths = repos.images.referenced_image_paths()
        # Every name any reference contains, in any spelling or host (the public URL may
        # have changed since), besides what our own URLs name: when in doubt, keep.
        referenced = object_names_in(paths)
        referenced.update(own.name for path in paths if (own := self._own.classify(path)) and own.name)
        candidates = [stored for stored in self._storage.list_objects() if stored.name not in referenced]
        with self._db.reading() as repos:
            spent = {stored.name for stored in candidates if repos.images.is_rejected(stored.name)}
        removed = []
        for stored in candidates:
            if stored.modified < cutoff or stored.name in spent:
                self._storage.delete(stored.name)
                with self._db.writing() as repos:
                    repos.images.forget(stored.name)
                removed.append(stored.name)
        return removed

    def _already_stored(self, name: str) -> bool:
        """A content-addressed object is there and is (or now proves to be) a real image.
        A hash whose file was refused is refused at once: the same bytes would fail again."""
        with self._db.reading() as repos:
            verified = repos.images.is_verified(name)
            rejected = repos.images.is_rejected(name)
        if rejected:
            raise ValidationError.single("fileHash", REJECTED_HASH)
        if verified and self._storage.exists(name):
            return True
        if not verified and self._storage.exists(name):
            problem = self._verify(name)
            if problem == NOT_UPLOADED:  # gone meanwhile: upload afresh
                return False
            if problem is not None:  # deleted, and the name spent
                raise ValidationError.single("fileHash", REJECTED_HASH)
            return True
        return False

    def _verify(self, name: str) -> str | None:
        with self._db.reading() as repos:
            spent = repos.images.is_rejected(name)
        if spent:  # whatever was uploaded again under the name goes too
            self._storage.delete(name)
            return REJECTED
        head = self._storage.read_head(name, HEAD_BYTES)
        if head is None:
            return NOT_UPLOADED
        problem = image_problem(self._inspector.inspect(head), name.rsplit(".", 1)[-1])
        if problem is not None:
            # Spend the name first: an upload racing this deletion is then refused or removed.
            with self._db.writing() as repos:
                repos.images.mark_rejected(name, self._clock.now())
                repos.images.forget(name)
            self._storage.delete(name)
            return problem
        self._storage.mark_in_use(name)
        with self._db.writing() as repos:
            repos.images.mark_verified(name, self._clock.now())
        return None
