"""Object names, storage keys and public URLs: the naming both storage adapters share."""

from __future__ import annotations

from urllib.parse import quote

from movierater_core.uploads import is_object_name


class PrefixedObjectUrls:
    """Objects live at ``<prefix><name>`` and are served at ``<base>/<prefix><name>``."""

    def __init__(self, base: str, prefix: str) -> None:
        self._base = base.rstrip("/")
        self._prefix = prefix

    def key(self, name: str) -> str:
        return self._prefix + name

    def public_url(self, name: str) -> str:
        return f"{self._base}/{quote(self.key(name))}"

    def name_for_url(self, url: str) -> str | None:
        """The object's name if ``url`` is one of our public URLs, else None (external)."""
        start = f"{self._base}/{quote(self._prefix)}"
        if not url.startswith(start):
            return None
        name = url[len(start) :]
        return name if is_object_name(name) else None
