"""The poster upload policy: which uploads are granted, how objects are named, and what
counts as a real image. Storage adapters enforce what storage can enforce (signed size,
type and checksum); the rest is checked here, after upload, before a poster is used."""

from __future__ import annotations

import re
from typing import Final

from attrs import frozen

from movierater_core.missing import MISSING
from movierater_core.rules import Body, Field, Form, Invalid, Need, Rule, parse_int, parse_text, text_rule

MAX_UPLOAD_BYTES: Final = 5 * 1024 * 1024
MAX_SIZE_MB: Final = 5
GRANTS_PER_HOUR: Final = 10
GRANT_WINDOW_SECONDS: Final = 3600
HEAD_BYTES: Final = 64 * 1024  # how much of an upload is read to check it is an image
MAX_DIMENSION: Final = 20_000  # pixels per side; Pillow's bomb limit also applies
FILENAME_MAX: Final = 255

# content type -> (file extensions that may carry it, the canonical one, Pillow's format)
IMAGE_TYPES: Final = {
    "image/jpeg": (("jpg", "jpeg"), "jpg", "JPEG"),
    "image/png": (("png",), "png", "PNG"),
    "image/webp": (("webp",), "webp", "WEBP"),
    "image/gif": (("gif",), "gif", "GIF"),
}
FORMAT_BY_EXTENSION: Final = {ext: fmt for _t, (_exts, ext, fmt) in IMAGE_TYPES.items()}
TYPE_BY_EXTENSION: Final = {ext: ctype for ctype, (_exts, ext, _f) in IMAGE_TYPES.items()}

_SHA256_CHARACTERS = "[0-9a-fA-F]{64}"
_SHA256 = re.compile(_SHA256_CHARACTERS)
_NAME_CHARACTERS = r"(?:[0-9a-f]{64}|[0-9a-f]{32})\.(?:jpg|png|webp|gif)"
_NAME = re.compile(_NAME_CHARACTERS)
OBJECT_NAME_PATTERN: Final = f"^{_NAME_CHARACTERS}$"  # JSON Schema's (ECMA-262) and Python's alike


@frozen
class UploadRequest:
    """A validated request for an upload URL."""

    content_type: str
    extension: str  # canonical: jpg, png, webp, gif
    size: int | None
    sha256: str | None  # lowercase hex

    def object_name(self, random_hex: str) -> str:
        """Content-addressed when the hash is known, else random; never the user's filename."""
        return f"{self.sha256 or random_hex}.{self.extension}"


@frozen
class UploadTicket:
    """How the client sends the bytes: a PUT with ``headers``, or a form POST with ``fields``."""

    url: str
    method: str
    headers: dict[str, str]
    fields: dict[str, str]


@frozen
class ImageInfo:
    format: str  # Pillow's name: JPEG, PNG, WEBP, GIF
    width: int
    height: int


def _parse_content_type(value: object) -> str:
    text = parse_text(value, max_length=100, allow_blank=False).lower()
    if text not in IMAGE_TYPES:
        raise Invalid("Only JPEG, PNG, WebP and GIF images can be uploaded.")
    return text


def _parse_size(value: object) -> int:
    try:
        return parse_int(value, minimum=1, maximum=MAX_UPLOAD_BYTES)
    except Invalid as exc:
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_UPLOAD_BYTES:
            raise Invalid(f"The file is too large: at most {MAX_SIZE_MB} MB.") from None
        raise exc


def _parse_sha256(value: object) -> str:
    text = parse_text(value, max_length=64, allow_blank=False)
    if not _SHA256.fullmatch(text):
        raise Invalid("Enter the file's SHA-256 as 64 hexadecimal characters.")
    return text.lower()


class UploadInput:
    """The body of a request for an upload URL."""

    filename = Field(
        "filename",
        text_rule(FILENAME_MAX),
        need=Need.ALWAYS,
        description="Only its extension is used: it must match contentType.",
    )
    content_type = Field(
        "contentType",
        Rule(_parse_content_type, {"type": "string", "enum": sorted(IMAGE_TYPES)}),
        need=Need.ALWAYS,
    )
    size = Field(
        "fileSize",
        Rule(_parse_size, {"type": "integer", "minimum": 1, "maximum": MAX_UPLOAD_BYTES}),
        description=(
            f"Bytes, at most {MAX_SIZE_MB} MB, as an integer without a fraction (not 4.0); "
            "with it the upload is a signed PUT."
        ),
    )
    sha256 = Field(
        "fileHash",
        Rule(_parse_sha256, {"type": "string", "pattern": f"^{_SHA256_CHARACTERS}$"}),
        description="The file's SHA-256 in hex; needs fileSize.",
    )


def _extension_matches_type() -> list[dict[str, object]]:
    """The file name's extension must agree with contentType (any letter case), as JSON Schema."""
    branches: list[dict[str, object]] = []
    for content_type in sorted(IMAGE_TYPES):
        extensions, _canonical, _format = IMAGE_TYPES[content_type]
        cased = "|".join("".join(f"[{c.upper()}{c}]" for c in ext) for ext in extensions)
        filename = {"pattern": f"^[^\\u0000]*\\.(?:{cased})$"}
        branches.append({"properties": {"contentType": {"const": content_type}, "filename": filename}})
    return branches


UPLOAD_BODY: Final = Body.of(
    UploadInput,
    across_fields={"dependentRequired": {"fileHash": ["fileSize"]}, "anyOf": _extension_matches_type()},
)


def parse_upload_request(data: object) -> UploadRequest:
    """``{filename, contentType, fileSize?, fileHash?}``: the extension and the type must agree."""
    form = Form(data)
    filename = form.take(UploadInput.filename)
    content_type = form.take(UploadInput.content_type)
    size = form.take(UploadInput.size)
    sha256 = form.take(UploadInput.sha256)
    if filename is not MISSING and content_type is not MISSING:
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        allowed, _canonical, _fmt = IMAGE_TYPES[content_type]
        if extension not in allowed:
            form.fail(
                "filename",
                f"The file extension must match {content_type}: "
                + " or ".join(f".{e}" for e in allowed)
                + ".",
            )
    if sha256 is not MISSING and size is MISSING and "fileSize" not in form.errors:
        form.fail("fileSize", "This field is required when fileHash is given.")
    if form.errors or content_type is MISSING:  # a required field that is missing left an error
        raise form.invalid()
    return UploadRequest(
        content_type=content_type,
        extension=IMAGE_TYPES[content_type][1],
        size=None if size is MISSING else size,
        sha256=None if sha256 is MISSING else sha256,
    )


def is_object_name(name: str) -> bool:
    """Names we hand out: a SHA-256 or a random 128-bit hex, and a canonical extension."""
    return _NAME.fullmatch(name) is not None


def image_problem(info: ImageInfo | None, extension: str) -> str | None:
    """Why an uploaded object is not an acceptable poster; ``None`` when it is."""
    expected = FORMAT_BY_EXTENSION.get(extension)
    if expected is None:
        return "The uploaded file has an unsupported type."
    if info is None or info.format != expected:
        return f"The uploaded file is not a valid {expected} image."
    if not (1 <= info.width <= MAX_DIMENSION and 1 <= info.height <= MAX_DIMENSION):
        return f"The image must be between 1 and {MAX_DIMENSION} pixels on each side."
    return None
