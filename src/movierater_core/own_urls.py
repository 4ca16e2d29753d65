"""Which URLs lead into the service's own storage, however they are spelled.

A URL is reduced to where it leads: host, port and path segments, in one spelling.
The rules are explicit (urllib.parse does the splitting; the core takes no URL library):

- scheme and host in any letter case; a trailing dot on the host; the scheme's default
  port written out (``:80``, ``:443``), and http and https on their default ports alike;
- a host as a browser reads it: IPv4 in decimal, hex or octal parts (``2130706433``,
  ``0x7f.1``), IPv6 in any zero spelling, IDNA; every loopback spelling (``localhost``,
  ``127.0.0.0/8``, ``::1``, ``0.0.0.0``) is one host;
- userinfo, the query and the fragment are ignored;
- in the path: percent-encoding decoded (repeatedly), backslashes read as slashes, empty
  segments (double and trailing slashes) and ``.`` dropped, ``..`` resolved.

This reads more URLs as ours than any one server would (S3 does not resolve ``..``, a
browser does). That is the safe side: a URL read as ours must name a verified object or
is refused, and an object any reference may name is kept.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from typing import Final
from urllib.parse import unquote, urlsplit

from attrs import frozen

from movierater_core.uploads import is_object_name

DEFAULT_PORTS: Final = {"http": 80, "https": 443}
LOOPBACK: Final = "localhost"  # every spelling of the local host reads as this

_IPV4_PART = {8: re.compile("[0-7]*"), 10: re.compile("[0-9]+"), 16: re.compile("[0-9a-f]*")}


@frozen
class Location:
    """Where a URL leads, in one spelling. ``port`` is None for the scheme's default."""

    host: str
    port: int | None
    segments: tuple[str, ...]


@frozen
class OwnReference:
    """A URL that leads into our storage: ``name`` is the object it names, or None when it
    names none we hand out (a path under the prefix that is no object name)."""

    name: str | None


def locate(url: str) -> Location | None:
    """``url`` reduced to host, port and path segments; None unless an http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = _host(parts.hostname)
    if not host:
        return None
    return Location(host, None if port == DEFAULT_PORTS[scheme] else port, _segments(parts.path))


def _host(raw: str) -> str:
    host = unquote(raw).lower().rstrip(".")
    address = _ip_address(host)
    if address is not None:
        return address
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return host


def _ip_address(host: str) -> str | None:
    """An IP address in one spelling (loopback and unspecified: LOOPBACK), or None for a name."""
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        whatwg = _whatwg_ipv4(host)
        if whatwg is None:
            return None
        address = whatwg
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback or address.is_unspecified:
        return LOOPBACK
    return address.compressed


def _whatwg_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The WHATWG URL standard's IPv4 parser: a host whose last label is a number is an
    address of 1 to 4 parts, each decimal, hex (``0x``) or octal (leading ``0``)."""
    labels = host.split(".")
    if not 1 <= len(labels) <= 4:
        return None
    numbers = [_ipv4_number(label) for label in labels]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if any(v > 255 for v in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    total = values[-1] + sum(v * 256 ** (3 - i) for i, v in enumerate(values[:-1]))
    return ipaddress.IPv4Address(total)


def _ipv4_number(label: str) -> int | None:
    base, digits = 10, label
    if label[:2] == "0x":
        base, digits = 16, label[2:]
    elif len(label) > 1 and label[0] == "0":
        base, digits = 8, label[1:]
    if not label or _IPV4_PART[base].fullmatch(digits) is None:
        return None
    return int(digits, base) if digits else 0


def _decoded(text: str) -> str:
    """Percent-decoded until nothing changes (each round shortens the text), ``\\`` as ``/``."""
    while True:
        decoded = unquote(text).replace("\\", "/")
        if decoded == text:
            return text
        text = decoded


def _segments(path: str) -> tuple[str, ...]:
    resolved: list[str] = []
    for segment in _decoded(path).split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if resolved:
                resolved.pop()
            continue
        resolved.append(segment)
    return tuple(resolved)


class OwnStorage:
    """Our storage's object URLs: ``bases`` are the URLs under which it serves objects by
    name (``base + name``), every style it answers to; the first is the canonical one."""

    def __init__(self, bases: Sequence[str]) -> None:
        located = [locate(base) for base in bases]
        if not bases or any(base is None for base in located):
            raise ValueError(f"storage base URLs must be http(s) URLs with a host: {list(bases)!r}")
        self._bases = [base for base in located if base is not None]

    def classify(self, url: str) -> OwnReference | None:
        """An :class:`OwnReference` if ``url`` leads under one of our bases, else None (external)."""
        location = locate(url)
        if location is None:
            return None
        for base in self._bases:
            size = len(base.segments)
            if (location.host, location.port) == (base.host, base.port) and (
                location.segments[:size] == base.segments
            ):
                rest = location.segments[size:]
                named = len(rest) == 1 and is_object_name(rest[0])
                return OwnReference(rest[0] if named else None)
        return None


# An object name anywhere in a text: 32 or 64 hex digits (not more) and an extension.
_NAME_INSIDE = re.compile(r"(?<![0-9a-f])(?=((?:[0-9a-f]{32}){1,2}\.(?:jpg|png|webp|gif)))")


def object_names_in(texts: Iterable[str]) -> set[str]:
    """Every object name that appears in any of ``texts``, in any letter case or percent-
    encoding: what the garbage collector keeps, whatever host or spelling a reference has."""
    found: set[str] = set()
    for text in texts:
        found.update(m.group(1) for m in _NAME_INSIDE.finditer(_decoded(text).lower()))
    return found
