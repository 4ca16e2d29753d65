"""The poster upload policy (``movierater_core.uploads``) and the ``Uploads`` use case."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from urllib.parse import urlsplit

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from movierater_adapters.storage_urls import s3_bucket_urls

from movierater_core.errors import RateLimited, ValidationError
from movierater_core.model import User
from movierater_core.own_urls import OwnReference, OwnStorage, locate
from movierater_core.uploads import (
    FILENAME_MAX,
    GRANT_WINDOW_SECONDS,
    GRANTS_PER_HOUR,
    MAX_DIMENSION,
    MAX_UPLOAD_BYTES,
    ImageInfo,
    UploadRequest,
    image_problem,
    is_object_name,
    parse_upload_request,
)
from movierater_core.use_cases import Uploads, UploadSettings
from movierater_core.use_cases.uploads import NOT_UPLOADED, REJECTED, REJECTED_HASH, TOO_LONG
from tests.unit.fakes import App, FakeInspector, FakeStorage, make_app

SIMPLE = settings(max_examples=300, deadline=None)

# ---- the oracle --------------------------------------------------------------------------

TYPES = {  # content type -> (allowed extensions, canonical extension, Pillow format)
    "image/jpeg": ({"jpg", "jpeg"}, "jpg", "JPEG"),
    "image/png": ({"png"}, "png", "PNG"),
    "image/webp": ({"webp"}, "webp", "WEBP"),
    "image/gif": ({"gif"}, "gif", "GIF"),
}
FORMAT_OF = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}
HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def text_ok(value: object, max_length: int) -> bool:
    """DRF CharField(trim_whitespace=True, allow_blank=False)."""
    return (
        isinstance(value, str)
        and "\x00" not in value
        and value.strip() != ""
        and len(value.strip()) <= max_length
    )


def content_type_of(value: object) -> str | None:
    if not text_ok(value, 100):
        return None
    lowered = value.strip().lower()  # type: ignore[union-attr]
    return lowered if lowered in TYPES else None


def size_ok(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_UPLOAD_BYTES


def hash_ok(value: object) -> bool:
    return text_ok(value, 64) and HEX64.fullmatch(value.strip()) is not None  # type: ignore[union-attr]


def extension_of(filename: str) -> str:
    stripped = filename.strip()
    return stripped.rsplit(".", 1)[-1].lower() if "." in stripped else ""


def expected_error_fields(data: dict[str, object]) -> set[str]:
    """Which fields ``parse_upload_request`` must complain about (empty: it must grant)."""
    errors = set()
    filename_ok = "filename" in data and text_ok(data["filename"], FILENAME_MAX)
    ctype = content_type_of(data["contentType"]) if "contentType" in data else None
    if not filename_ok:
        errors.add("filename")
    if ctype is None:
        errors.add("contentType")
    if filename_ok and ctype is not None and extension_of(data["filename"]) not in TYPES[ctype][0]:  # type: ignore[arg-type]
        errors.add("filename")
    if "fileSize" in data and not size_ok(data["fileSize"]):
        errors.add("fileSize")
    if "fileHash" in data and not hash_ok(data["fileHash"]):
        errors.add("fileHash")
    if "fileHash" in data and hash_ok(data["fileHash"]) and "fileSize" not in data:
        errors.add("fileSize")  # the hash is only signed together with a size
    return errors


# ---- strategies --------------------------------------------------------------------------

EXTENSIONS = st.sampled_from(
    [
        "jpg",
        "JPG",
        "jpeg",
        "JpEg",
        "png",
        "PNG",
        "webp",
        "gif",
        "GIF",
        "svg",
        "html",
        "bmp",
        "tiff",
        "exe",
        "php",
        "jpg ",
        "png\x00",
        "",
        "jp",
        "pngx",
    ]
)
STEMS = st.one_of(
    st.sampled_from(["poster", "../../etc/passwd", "a b", "x.png", "évasion", "", " ", "\x00evil", "C:\\x"]),
    st.text(max_size=12),
)


@st.composite
def filenames(draw: st.DrawFn) -> object:
    kind = draw(st.integers(0, 9))
    if kind <= 5:
        name = f"{draw(STEMS)}.{draw(EXTENSIONS)}"
        if draw(st.booleans()):
            name = draw(st.sampled_from([" ", "\t", "\n"])) + name + draw(st.sampled_from(["", " ", "\n"]))
        return name
    if kind == 6:  # around the length limit
        ext = draw(st.sampled_from(["png", "jpg", "gif"]))
        length = draw(st.integers(FILENAME_MAX - 3, FILENAME_MAX + 3))
        return "a" * (length - len(ext) - 1) + "." + ext
    if kind == 7:
        return draw(
            st.sampled_from(["", "   ", "png", "noextension", ".png", "png.", "a.png.exe", "a.exe.png"])
        )
    if kind == 8:
        return draw(
            st.one_of(
                st.none(),
                st.integers(),
                st.floats(),
                st.booleans(),
                st.lists(st.text(max_size=2), max_size=2),
            )
        )
    return draw(st.text(max_size=20))


CONTENT_TYPES = st.one_of(
    st.sampled_from(list(TYPES)),
    st.sampled_from(
        [
            "IMAGE/PNG",
            "Image/Jpeg",
            " image/gif ",
            "image/webp\n",
            "image/jpg",
            "image/svg+xml",
            "text/html",
            "",
            "  ",
            "image/png\x00",
            "image/png; charset=x",
            "application/octet-stream",
        ]
    ),
    st.none(),
    st.integers(),
    st.text(max_size=12),
)

SIZES = st.one_of(
    st.integers(-3, 3),
    st.integers(),
    st.sampled_from([MAX_UPLOAD_BYTES - 1, MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES + 1, 10**30, -(10**30)]),
    st.floats(allow_nan=True),
    st.sampled_from([1.0, 100.0, float(MAX_UPLOAD_BYTES)]),
    st.text(max_size=8),
    st.sampled_from(["100", "5", " 5 "]),
    st.booleans(),
    st.none(),
)

HEX = "0123456789abcdefABCDEF"
HASHES = st.one_of(
    st.text(st.sampled_from(HEX), min_size=64, max_size=64),
    st.text(st.sampled_from("0123456789abcdef"), min_size=64, max_size=64),
    st.text(st.sampled_from(HEX), min_size=62, max_size=66),
    st.builds(
        lambda h, bad: h[:30] + bad + h[31:],
        st.text(st.sampled_from(HEX), min_size=64, max_size=64),
        st.sampled_from(["g", "G", "z", " ", "-", "\x00", "é"]),
    ),
    st.builds(lambda h: f" {h}\n", st.text(st.sampled_from(HEX), min_size=64, max_size=64)),
    st.none(),
    st.integers(),
    st.text(max_size=5),
)


@st.composite
def upload_bodies(draw: st.DrawFn) -> dict[str, object]:
    """Each field is usually valid (so that grants are common) and otherwise anything at all."""
    ctype = draw(st.sampled_from(list(TYPES)))
    good_ext = draw(st.sampled_from(sorted(TYPES[ctype][0])))
    valid = {
        "filename": st.builds(
            lambda stem, ext, pad: pad + stem + "." + ext + pad,
            STEMS.filter(lambda s: "\x00" not in s),
            st.sampled_from([good_ext, good_ext.upper()]),
            st.sampled_from(["", " "]),
        ),
        "contentType": st.sampled_from([ctype, ctype.upper(), f" {ctype} "]),
        "fileSize": st.one_of(st.integers(1, MAX_UPLOAD_BYTES), st.sampled_from([1, MAX_UPLOAD_BYTES])),
        "fileHash": st.text(st.sampled_from(HEX), min_size=64, max_size=64),
    }
    invalid = {"filename": filenames(), "contentType": CONTENT_TYPES, "fileSize": SIZES, "fileHash": HASHES}
    body: dict[str, object] = {}
    for key in ("filename", "contentType", "fileSize", "fileHash"):
        required = key in ("filename", "contentType")
        kinds = ["valid"] * 6 + ["invalid"] * 2 + ["absent"] * (1 if required else 4)
        kind = draw(st.sampled_from(kinds))
        if kind != "absent":
            body[key] = draw(valid[key] if kind == "valid" else invalid[key])
    return body


@st.composite
def valid_bodies(draw: st.DrawFn) -> dict[str, object]:
    ctype = draw(st.sampled_from(list(TYPES)))
    ext = draw(st.sampled_from(sorted(TYPES[ctype][0])))
    ext = draw(st.sampled_from([ext, ext.upper()]))
    body: dict[str, object] = {
        "filename": draw(st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s)) + "." + ext,
        "contentType": draw(st.sampled_from([ctype, ctype.upper()])),
    }
    if draw(st.booleans()):
        body["fileSize"] = draw(st.integers(1, MAX_UPLOAD_BYTES))
        if draw(st.booleans()):
            body["fileHash"] = draw(st.text(st.sampled_from(HEX), min_size=64, max_size=64))
    return body


# ---- 1. parse_upload_request against the oracle ------------------------------------------


@SIMPLE
@given(upload_bodies())
@example({"filename": "a.png", "contentType": "image/png"})
@example(
    {"filename": "a.JPEG", "contentType": "IMAGE/JPEG", "fileSize": MAX_UPLOAD_BYTES, "fileHash": "A" * 64}
)
@example({"filename": "a.jpg", "contentType": "image/jpeg", "fileSize": MAX_UPLOAD_BYTES + 1})
@example({"filename": "a.jpg", "contentType": "image/jpeg", "fileSize": 0})
@example({"filename": "a.jpg", "contentType": "image/jpeg", "fileSize": True})
@example({"filename": "a.jpg", "contentType": "image/jpeg", "fileSize": 1.0})
@example({"filename": "a.jpg", "contentType": "image/jpeg", "fileSize": None})
@example({"filename": "a.jpg", "contentType": "image/jpeg", "fileHash": "a" * 64})
@example({"filename": "a.jpg", "contentType": "image/jpeg", "fileHash": "a" * 63, "fileSize": 5})
@example({"filename": "a.jpg", "contentType": "image/png"})
@example({"filename": "a.png", "contentType": "image/svg+xml"})
@example({"filename": "a" * (FILENAME_MAX - 4) + ".png", "contentType": "image/png"})
@example({"filename": "a" * (FILENAME_MAX - 3) + ".png", "contentType": "image/png"})
@example({"filename": "a.png\x00", "contentType": "image/png"})
@example({"filename": "   ", "contentType": "image/png"})
@example({})
def test_parse_upload_request_grants_iff_oracle_says_so(data: dict[str, object]) -> None:
    expected = expected_error_fields(data)
    if expected:
        with pytest.raises(ValidationError) as caught:
            parse_upload_request(data)
        assert set(caught.value.errors) == expected, data
        assert all(caught.value.errors[key] for key in expected)
        assert all(isinstance(m, str) and m for msgs in caught.value.errors.values() for m in msgs)
        return
    request = parse_upload_request(data)
    assert isinstance(request, UploadRequest)
    ctype = data["contentType"].strip().lower()  # type: ignore[union-attr]
    assert request.content_type == ctype
    assert request.extension == TYPES[ctype][1]  # canonical: jpeg -> jpg
    assert request.size == data.get("fileSize")
    assert type(request.size) in (int, type(None))
    if "fileHash" in data:
        assert request.sha256 == data["fileHash"].strip().lower()  # type: ignore[union-attr]
        assert re.fullmatch(r"[0-9a-f]{64}", request.sha256)
    else:
        assert request.sha256 is None


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, {"filename": ["This field is required."], "contentType": ["This field is required."]}),
        (
            {"filename": "a.jpg", "contentType": "image/png"},
            {"filename": ["The file extension must match image/png: .png."]},
        ),
        (
            {"filename": "a.gif", "contentType": "image/jpeg"},
            {"filename": ["The file extension must match image/jpeg: .jpg or .jpeg."]},
        ),
        (
            {"filename": "a.png", "contentType": "image/png", "fileSize": MAX_UPLOAD_BYTES + 1},
            {"fileSize": ["The file is too large: at most 5 MB."]},
        ),
        (
            {"filename": "a.png", "contentType": "image/png", "fileSize": 0},
            {"fileSize": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"filename": "a.png", "contentType": "image/png", "fileSize": True},
            {"fileSize": ["A valid integer is required."]},
        ),
        (
            {"filename": "a.png", "contentType": "image/png", "fileHash": "ab" * 32},
            {"fileSize": ["This field is required when fileHash is given."]},
        ),
        (
            {"filename": "a.png", "contentType": "image/png", "fileSize": 3, "fileHash": "xy" * 32},
            {"fileHash": ["Enter the file's SHA-256 as 64 hexadecimal characters."]},
        ),
        (
            {"filename": "a.png", "contentType": "text/html"},
            {"contentType": ["Only JPEG, PNG, WebP and GIF images can be uploaded."]},
        ),
    ],
)
def test_parse_upload_request_messages(data: dict[str, object], errors: dict[str, list[str]]) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_upload_request(data)
    assert caught.value.errors == errors


@pytest.mark.parametrize("data", [None, [], "a.png", 3, [("filename", "a.png")]])
def test_parse_upload_request_needs_an_object(data: object) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_upload_request(data)
    assert set(caught.value.errors) == {"non_field_errors"}


# ---- 2. object names ---------------------------------------------------------------------

RANDOM_HEX = st.text(st.sampled_from("0123456789abcdef"), min_size=32, max_size=32)


@SIMPLE
@given(valid_bodies(), RANDOM_HEX, st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s))
def test_object_name_never_uses_the_filename(
    data: dict[str, object], random_hex: str, other_stem: str
) -> None:
    request = parse_upload_request(data)
    name = request.object_name(random_hex)
    if request.sha256 is not None:
        assert name == f"{request.sha256}.{request.extension}"
    else:
        assert name == f"{random_hex}.{request.extension}"
    assert is_object_name(name)
    # The same request under another filename gets exactly the same name.
    renamed = dict(data, filename=f"{other_stem}.{extension_of(data['filename'])}")  # type: ignore[arg-type]
    assert parse_upload_request(renamed).object_name(random_hex) == name
    stem = data["filename"].strip().rsplit(".", 1)[0]  # type: ignore[union-attr]
    if re.search(r"[^0-9a-f]", stem):
        assert stem not in name.rsplit(".", 1)[0]
    assert not any(ch in name for ch in "/\\ \x00") and ".." not in name


@pytest.mark.parametrize(
    "name", ["a" * 64 + ".jpg", "0" * 32 + ".png", "f" * 32 + ".webp", "9" * 64 + ".gif"]
)
def test_is_object_name_accepts_names_we_hand_out(name: str) -> None:
    assert is_object_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "A" * 64 + ".jpg",  # uppercase hex
        "a" * 31 + "B.png",
        "a" * 64 + ".jpeg",  # not canonical
        "a" * 64 + ".JPG",
        "a" * 64 + ".svg",
        "a" * 64 + ".html",
        "a" * 64,
        "a" * 64 + ".",
        "a" * 63 + ".png",  # wrong lengths
        "a" * 65 + ".png",
        "a" * 31 + ".png",
        "a" * 33 + ".png",
        "a" * 48 + ".png",
        ".png",
        "",
        "../" + "a" * 64 + ".png",
        "a" * 32 + "/.." + ".png",
        "..",
        "dir/" + "a" * 32 + ".png",
        "a" * 32 + ".png/",
        "a" * 32 + ".png\n",
        "a" * 32 + ".png.exe",
        " " + "a" * 32 + ".png",
        "g" * 32 + ".png",
    ],
)
def test_is_object_name_refuses_anything_else(name: str) -> None:
    assert not is_object_name(name)


@SIMPLE
@given(st.text(max_size=80))
@example("a" * 32 + ".png")
def test_is_object_name_is_exactly_the_pattern(name: str) -> None:
    expected = re.fullmatch(r"(?:[0-9a-f]{64}|[0-9a-f]{32})\.(?:jpg|png|webp|gif)", name) is not None
    assert is_object_name(name) == expected
    if is_object_name(name):
        assert "/" not in name and ".." not in name


# ---- 3. image_problem --------------------------------------------------------------------

DIMENSIONS = st.one_of(
    st.integers(-2, 2), st.integers(MAX_DIMENSION - 1, MAX_DIMENSION + 1), st.integers(-(10**6), 10**6)
)
INFOS = st.one_of(
    st.none(),
    st.builds(
        ImageInfo,
        st.sampled_from(["JPEG", "PNG", "WEBP", "GIF", "jpeg", "png", "BMP", "TIFF", "MPO", ""]),
        DIMENSIONS,
        DIMENSIONS,
    ),
)


@SIMPLE
@given(INFOS, st.sampled_from(["jpg", "png", "webp", "gif", "jpeg", "JPG", "svg", "bmp", ""]))
@example(ImageInfo("PNG", 1, 1), "png")
@example(ImageInfo("PNG", MAX_DIMENSION, MAX_DIMENSION), "png")
@example(ImageInfo("PNG", MAX_DIMENSION + 1, 1), "png")
@example(ImageInfo("GIF", 1, 0), "gif")
@example(ImageInfo("JPEG", 10, 10), "jpeg")
@example(ImageInfo("JPEG", 10, 10), "png")
def test_image_problem(info: ImageInfo | None, extension: str) -> None:
    problem = image_problem(info, extension)
    expected_format = FORMAT_OF.get(extension)
    if expected_format is None:
        assert problem == "The uploaded file has an unsupported type."
    elif info is None or info.format != expected_format:
        assert problem == f"The uploaded file is not a valid {expected_format} image."
    elif not (1 <= info.width <= MAX_DIMENSION and 1 <= info.height <= MAX_DIMENSION):
        assert problem == f"The image must be between 1 and {MAX_DIMENSION} pixels on each side."
    else:
        assert problem is None


# ---- 4. the Uploads use case -------------------------------------------------------------

HASH = "ab" * 32


def _world() -> tuple[App, User, User]:
    app = make_app()
    admin = app.accounts.register({"username": "root", "password": "correct horse 1230"}, is_admin=True)
    alice = app.accounts.register({"username": "alice", "password": "correct horse 1231"})
    return app, admin, alice


def _png(n: int = 0) -> dict[str, object]:
    return {"filename": f"poster{n}.png", "contentType": "image/png"}


def _hashed(sha256: str = HASH, size: int = 13) -> dict[str, object]:
    return {"filename": "../../Poster.PNG", "contentType": "image/png", "fileSize": size, "fileHash": sha256}


def test_ten_grants_per_hour_then_rate_limited_with_retry_after() -> None:
    app, _, alice = _world()
    remaining = [
        app.uploads.request_upload_url(alice, _png(i)).uploads_remaining for i in range(GRANTS_PER_HOUR)
    ]
    assert remaining == list(range(GRANTS_PER_HOUR - 1, -1, -1))  # 9, 8, ..., 0
    with pytest.raises(RateLimited) as caught:
        app.uploads.request_upload_url(alice, _png(99))
    assert caught.value.retry_after == GRANT_WINDOW_SECONDS == 3600
    app.clock.advance(GRANT_WINDOW_SECONDS - 1)
    with pytest.raises(RateLimited) as caught:
        app.uploads.request_upload_url(alice, _png(99))
    assert caught.value.retry_after == 1
    # retry_after promised that one second later a grant is possible again
    app.clock.advance(1)
    offer = app.uploads.request_upload_url(alice, _png(99))
    assert offer.ticket is not None and not offer.deduplicated


def test_limit_is_per_user() -> None:
    app, admin, alice = _world()
    for i in range(GRANTS_PER_HOUR):
        app.uploads.request_upload_url(alice, _png(i))
    with pytest.raises(RateLimited):
        app.uploads.request_upload_url(alice, _png())
    assert app.uploads.request_upload_url(admin, _png()).uploads_remaining == GRANTS_PER_HOUR - 1


def test_invalid_requests_do_not_consume_grants() -> None:
    app, _, alice = _world()
    for _ in range(3 * GRANTS_PER_HOUR):
        with pytest.raises(ValidationError):
            app.uploads.request_upload_url(alice, {"filename": "a.svg", "contentType": "image/svg+xml"})
    assert app.uploads.request_upload_url(alice, _png()).uploads_remaining == GRANTS_PER_HOUR - 1


def test_sliding_window_frees_one_slot_at_a_time() -> None:
    app, _, alice = _world()
    for i in range(GRANTS_PER_HOUR):  # grants at t = 0, 100, ..., 900
        offer = app.uploads.request_upload_url(alice, _png(i))
        assert offer.uploads_remaining == GRANTS_PER_HOUR - 1 - i
        app.clock.advance(100)
    app.clock.advance(3599 - 1000)  # t = 3599: the grant of t = 0 still counts
    with pytest.raises(RateLimited) as caught:
        app.uploads.request_upload_url(alice, _png())
    assert caught.value.retry_after == 1
    app.clock.advance(1)  # t = 3600: the grant of t = 0 has left the rolling hour
    offer = app.uploads.request_upload_url(alice, _png())
    assert offer.uploads_remaining == 0
    with pytest.raises(RateLimited) as caught:  # the next slot frees when t = 100 leaves
        app.uploads.request_upload_url(alice, _png())
    assert caught.value.retry_after == 100


def test_sliding_window_one_second_past_the_hour() -> None:
    """The same as above, tolerant of the boundary: strictly past an hour always frees a slot."""
    app, _, alice = _world()
    for i in range(GRANTS_PER_HOUR):
        app.uploads.request_upload_url(alice, _png(i))
        app.clock.advance(100)
    app.clock.advance(3601 - 1000)  # t = 3601
    assert app.uploads.request_upload_url(alice, _png()).uploads_remaining == 0
    with pytest.raises(RateLimited) as caught:
        app.uploads.request_upload_url(alice, _png())
    assert caught.value.retry_after == 99  # the grant of t = 100 leaves at t = 3700


def test_ticket_signed_with_type_size_hash_and_ttl() -> None:
    app, _, alice = _world()
    offer = app.uploads.request_upload_url(
        alice,
        {
            "filename": " My Poster.JPEG ",
            "contentType": "Image/JPEG",
            "fileSize": 1234,
            "fileHash": "AB" * 32,
        },
    )
    assert offer.name == "ab" * 32 + ".jpg"
    assert offer.ticket is not None and not offer.deduplicated
    assert offer.expires_in == 3600
    assert offer.key == "media/movies/" + offer.name
    assert offer.public_url == app.storage.BASE + offer.name
    assert app.storage.tickets == [
        (offer.name, {"content_type": "image/jpeg", "size": 1234, "sha256": "ab" * 32, "expires_in": 3600})
    ]
    unhashed = app.uploads.request_upload_url(alice, {"filename": "x.webp", "contentType": "image/webp"})
    assert re.fullmatch(r"[0-9a-f]{32}\.webp", unhashed.name)
    assert app.storage.tickets[-1] == (
        unhashed.name,
        {"content_type": "image/webp", "size": None, "sha256": None, "expires_in": 3600},
    )
    assert "Poster" not in offer.name + unhashed.name


def test_random_names_differ() -> None:
    app, _, alice = _world()
    names = {app.uploads.request_upload_url(alice, _png()).name for _ in range(GRANTS_PER_HOUR)}
    assert len(names) == GRANTS_PER_HOUR


def test_dedup_of_a_verified_object_needs_no_upload_and_no_grant() -> None:
    app, _, alice = _world()
    first = app.uploads.request_upload_url(alice, _hashed())
    assert first.ticket is not None and first.uploads_remaining == GRANTS_PER_HOUR - 1
    app.storage.put(first.name, b"IMG:PNG:10x10")
    app.uploads.check_poster(first.public_url)  # verifies it
    tickets = list(app.storage.tickets)
    for _ in range(GRANTS_PER_HOUR + 5):
        again = app.uploads.request_upload_url(alice, _hashed())
        assert again.deduplicated is True
        assert again.ticket is None and again.expires_in is None
        assert (again.name, again.public_url, again.key) == (first.name, first.public_url, first.key)
        assert again.uploads_remaining == GRANTS_PER_HOUR - 1  # nothing consumed
    assert app.storage.tickets == tickets
    assert app.uploads.request_upload_url(alice, _png()).uploads_remaining == GRANTS_PER_HOUR - 2


def test_dedup_still_works_when_rate_limited() -> None:
    app, _, alice = _world()
    first = app.uploads.request_upload_url(alice, _hashed())
    app.storage.put(first.name, b"IMG:PNG:10x10")
    app.uploads.check_poster(first.public_url)
    for i in range(GRANTS_PER_HOUR - 1):
        app.uploads.request_upload_url(alice, _png(i))
    with pytest.raises(RateLimited):
        app.uploads.request_upload_url(alice, _png())
    again = app.uploads.request_upload_url(alice, _hashed())
    assert again.deduplicated and again.ticket is None and again.uploads_remaining == 0


def test_unverified_valid_object_with_the_hash_is_verified_and_deduplicated() -> None:
    app, _, alice = _world()
    name = HASH + ".png"
    app.storage.put(name, b"IMG:PNG:40x30")
    offer = app.uploads.request_upload_url(alice, _hashed())
    assert offer.deduplicated and offer.ticket is None and offer.name == name
    assert name in app.db.state.verified
    assert app.db.state.grants == []


@pytest.mark.parametrize(
    "content", [b"<html>evil</html>", b"IMG:JPEG:10x10", b"IMG:PNG:0x10", b"IMG:PNG:20001x5"]
)
def test_unverified_invalid_object_with_the_hash_is_deleted_and_the_hash_refused(content: bytes) -> None:
    """The name is content-addressed: the same bytes would be refused again, so the name is
    spent (issue 13, item 7) and no upload URL is granted for it (0.2.0 granted one)."""
    app, _, alice = _world()
    name = HASH + ".png"
    app.storage.put(name, content)
    with pytest.raises(ValidationError) as caught:
        app.uploads.request_upload_url(alice, _hashed())
    assert caught.value.errors == {"fileHash": [REJECTED_HASH]}
    assert name not in app.storage.objects
    assert app.storage.tickets == [] and app.db.state.grants == []
    assert name not in app.db.state.verified and name in app.db.state.rejected


def test_verified_but_missing_object_gets_a_fresh_ticket() -> None:
    app, _, alice = _world()
    name = HASH + ".png"
    app.storage.put(name, b"IMG:PNG:10x10")
    app.uploads.check_poster(app.storage.public_url(name))
    del app.storage.objects[name]
    offer = app.uploads.request_upload_url(alice, _hashed())
    assert not offer.deduplicated and offer.ticket is not None


def test_same_hash_other_type_is_another_object() -> None:
    app, _, alice = _world()
    app.storage.put(HASH + ".png", b"IMG:PNG:10x10")
    app.uploads.check_poster(app.storage.public_url(HASH + ".png"))
    offer = app.uploads.request_upload_url(
        alice, {"filename": "a.gif", "contentType": "image/gif", "fileSize": 13, "fileHash": HASH}
    )
    assert offer.name == HASH + ".gif" and not offer.deduplicated and offer.ticket is not None


@pytest.mark.parametrize(
    "url", [None, "", "https://img.example/alien.jpg", "https://posters.example/other/x.png"]
)
def test_check_poster_ignores_external_urls(url: str | None) -> None:
    app, _, _ = _world()
    app.storage.put("c" * 32 + ".png", b"junk")
    before = (copy.deepcopy(app.storage.objects), copy.deepcopy(app.db.state))
    app.uploads.check_poster(url)
    assert (app.storage.objects, app.db.state) == before


def test_check_poster_missing_object() -> None:
    app, _, _ = _world()
    with pytest.raises(ValidationError) as caught:
        app.uploads.check_poster(app.storage.public_url("d" * 32 + ".png"))
    assert caught.value.errors == {"imagePath": [NOT_UPLOADED]}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("e" * 32 + ".png", b"<svg onload=alert(1)>", "The uploaded file is not a valid PNG image."),
        ("e" * 32 + ".jpg", b"IMG:PNG:10x10", "The uploaded file is not a valid JPEG image."),
        ("e" * 32 + ".gif", b"IMG:GIF:0x10", "The image must be between 1 and 20000 pixels on each side."),
        (
            "e" * 32 + ".webp",
            b"IMG:WEBP:10x20001",
            "The image must be between 1 and 20000 pixels on each side.",
        ),
    ],
)
def test_check_poster_invalid_content_is_deleted(name: str, content: bytes, message: str) -> None:
    app, _, _ = _world()
    app.storage.put(name, content)
    with pytest.raises(ValidationError) as caught:
        app.uploads.check_poster(app.storage.public_url(name))
    assert caught.value.errors == {"imagePath": [message]}
    assert name not in app.storage.objects
    assert name not in app.db.state.verified


def test_check_poster_valid_content_is_kept_and_verified() -> None:
    app, _, _ = _world()
    name = "e" * 32 + ".webp"
    app.storage.put(name, b"IMG:WEBP:20000x1")
    app.uploads.check_poster(app.storage.public_url(name))
    assert name in app.storage.objects and name in app.db.state.verified


@pytest.mark.parametrize("partial", [True, False])
def test_update_movie_with_a_bad_own_poster_changes_nothing(partial: bool) -> None:
    app, admin, _ = _world()
    good = "1" * 32 + ".png"
    app.storage.put(good, b"IMG:PNG:10x10")
    movie = app.movies.create_movie(admin, {"title": "Alien", "imagePath": app.storage.public_url(good)})
    bad = "2" * 32 + ".png"
    app.storage.put(bad, b"not an image")
    state = copy.deepcopy(app.db.state)
    with pytest.raises(ValidationError) as caught:
        app.movies.update_movie(
            admin, movie.id, {"title": "Aliens", "imagePath": app.storage.public_url(bad)}, partial=partial
        )
    assert set(caught.value.errors) == {"imagePath"}
    assert app.movies.get_movie(admin, movie.id) == movie
    assert app.db.state.movies == state.movies
    assert bad not in app.storage.objects and good in app.storage.objects
    missing = "3" * 32 + ".png"
    with pytest.raises(ValidationError) as caught:
        app.movies.update_movie(admin, movie.id, {"imagePath": app.storage.public_url(missing)}, partial=True)
    assert caught.value.errors == {"imagePath": [NOT_UPLOADED]}
    assert app.movies.get_movie(admin, movie.id) == movie


def test_create_movie_with_a_bad_own_poster_creates_nothing() -> None:
    app, admin, _ = _world()
    bad = "4" * 32 + ".gif"
    app.storage.put(bad, b"IMG:PNG:1x1")
    with pytest.raises(ValidationError):
        app.movies.create_movie(admin, {"title": "Heat", "imagePath": app.storage.public_url(bad)})
    assert app.db.state.movies == {}
    assert bad not in app.storage.objects


def test_collect_garbage_removes_only_old_unreferenced_objects() -> None:
    app, admin, _ = _world()
    kept_old = "a" * 32 + ".png"  # old but used by a movie
    kept_other_host = "b" * 64 + ".jpg"  # old, used under a URL with another host
    removed_old = "c" * 32 + ".png"  # old and unused
    removed_verified = "d" * 32 + ".gif"  # old, verified, unused
    for name, content in (
        (kept_old, b"IMG:PNG:5x5"),
        (kept_other_host, b"IMG:JPEG:5x5"),
        (removed_old, b"IMG:PNG:5x5"),
        (removed_verified, b"IMG:GIF:5x5"),
    ):
        app.storage.put(name, content)
    app.uploads.check_poster(app.storage.public_url(removed_verified))
    app.movies.create_movie(admin, {"title": "Alien", "imagePath": app.storage.public_url(kept_old)})
    app.movies.create_movie(
        admin, {"title": "Heat", "imagePath": "https://cdn.example/posters/" + kept_other_host}
    )
    app.clock.advance(12 * 3600)
    young = "e" * 32 + ".png"  # unused but only 12 hours old at collection time
    app.storage.put(young, b"junk")
    app.clock.advance(12 * 3600)  # the first four are now exactly 24 h old: kept (not older)
    assert list(app.uploads.collect_garbage(timedelta(hours=24))) == []
    assert set(app.storage.objects) == {kept_old, kept_other_host, removed_old, removed_verified, young}
    app.clock.advance(1)
    removed = app.uploads.collect_garbage(timedelta(hours=24))
    assert sorted(removed) == sorted([removed_old, removed_verified])
    assert set(app.storage.objects) == {kept_old, kept_other_host, young}
    assert removed_verified not in app.db.state.verified
    app.clock.advance(12 * 3600)
    assert list(app.uploads.collect_garbage(timedelta(hours=24))) == [young]
    assert set(app.storage.objects) == {kept_old, kept_other_host}
    assert [m.title for m in app.movies.list_movies(admin).items] == ["Alien", "Heat"]


# ---- 5. own-storage URLs in any spelling (issue 13, item 3) -------------------------------

OWN_BASES = [
    FakeStorage.BASE,  # https://posters.example/media/movies/
    "http://127.0.0.1:8000/media/movies/",  # local storage, the default public URL
    "https://bucket.s3.us-east-1.amazonaws.com/media/movies/",
    "https://cdn.example.org/assets/posters/media/movies/",
]
OBJECT_NAMES = st.builds(
    lambda hex_, long, ext: (hex_ * 2 if long else hex_) + "." + ext,
    RANDOM_HEX,
    st.booleans(),
    st.sampled_from(["jpg", "png", "webp", "gif"]),
)
LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "localhost",
    "LocalHost.",
    "2130706433",
    "0x7f.0.0.1",
    "0x7F000001",
    "0177.0.0.1",
    "127.1",
    "127.0.1",
    "127.000.000.001",
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",
]


def _random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if flip else c for c, flip in zip(text, flips, strict=True))


def _encode(draw: st.DrawFn, text: str) -> str:
    """Some characters percent-encoded, with hex digits in either case, some twice."""
    out = []
    for ch in text:
        how = draw(st.sampled_from(["as is", "as is", "as is", "encoded", "twice"]))
        if how == "as is":
            out.append(ch)
            continue
        hex_ = _random_case(draw, f"{ord(ch):02x}")
        out.append(f"%{hex_}" if how == "encoded" else f"%25{hex_}")
    return "".join(out)


@st.composite
def spellings(draw: st.DrawFn, base: str, name: str) -> str:
    """Another spelling of ``base + name`` that leads to the same object."""
    parts = urlsplit(base + name)
    scheme = _random_case(draw, parts.scheme)
    host = parts.hostname or ""
    if host == "127.0.0.1":
        host = draw(st.sampled_from(LOOPBACK_SPELLINGS))
    else:
        host = _random_case(draw, host) + draw(st.sampled_from(["", "."]))
    default = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port else draw(st.sampled_from(["", f":{default}", f":00{default}"]))
    userinfo = draw(st.sampled_from(["", "user@", "user:secret@"]))
    segments: list[str] = []
    for segment in parts.path.split("/")[1:]:
        segments += draw(st.sampled_from([[], ["."], ["", ""], ["x", ".."], ["%2e"], ["a", "%2E%2e"]]))
        segments.append(_encode(draw, segment))
    separator = draw(st.sampled_from(["/", "/", "//", "%2F", "\\"]))
    path = "/" + separator.join(segments) + draw(st.sampled_from(["", "/", "//"]))
    query = draw(st.sampled_from(["", "?", "?v=2", "?X-Amz-Signature=00"]))
    fragment = draw(st.sampled_from(["", "#", "#top"]))
    return f"{scheme}://{userinfo}{host}{port}{path}{query}{fragment}"


@SIMPLE
@given(st.data(), st.sampled_from(OWN_BASES), OBJECT_NAMES)
@example(None, FakeStorage.BASE, "a" * 32 + ".png")
def test_any_spelling_of_an_own_objects_url_names_that_object(
    data: st.DataObject | None, base: str, name: str
) -> None:
    own = OwnStorage([base, *(b for b in OWN_BASES if b != base)])
    assert own.classify(base + name) == OwnReference(name)
    if data is not None:
        spelled = data.draw(spellings(base, name))
        assert own.classify(spelled) == OwnReference(name), spelled


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://POSTERS.EXAMPLE/media/movies/{n}",
        "https://posters.example:443/media/movies/{n}",
        "http://posters.example:80/media/movies/{n}",
        "https://posters.example./media/movies/{n}",
        "https://posters.example/media/movies/{n}?v=2",
        "https://posters.example/media/movies/{n}#frag",
        "https://posters.example/media/movies/{n}/",
        "https://posters.example//media//movies//{n}",
        "https://posters.example/media/./movies/x/../{n}",
        "https://posters.example/media/movies/%2e%2e/movies/{n}",
        "https://posters.example/media%2Fmovies%2F{n}",
        "https://posters.example/%6d%65%64%69%61/movies/%{h}{rest}",
        "https://user:pw@posters.example/media/movies/{n}",
    ],
)
def test_spellings_of_an_own_object_are_checked_and_stored_canonically(url: str) -> None:
    app, admin, _ = _world()
    name = "a" * 32 + ".png"
    app.storage.put(name, b"IMG:PNG:10x10")
    spelled = url.format(n=name, h=f"{ord(name[0]):02X}", rest=name[1:])
    movie = app.movies.create_movie(admin, {"title": "Alien", "imagePath": spelled})
    assert movie.image_path == app.storage.public_url(name)
    updated = app.movies.update_movie(admin, movie.id, {"imagePath": spelled}, partial=True)
    assert updated.image_path == app.storage.public_url(name)
    assert name in app.db.state.verified


@pytest.mark.parametrize(
    "suffix",
    ["?v=2", "#x", "/", "?", "//", "/.", "/x/..", "%2F"],
)
def test_html_disguised_as_png_is_refused_in_any_spelling(suffix: str) -> None:
    app, admin, _ = _world()
    name = "b" * 32 + ".png"
    app.storage.put(name, b"<!doctype html><script>alert(1)</script>")
    with pytest.raises(ValidationError) as caught:
        app.movies.create_movie(admin, {"title": "Alien", "imagePath": app.storage.public_url(name) + suffix})
    assert caught.value.errors == {"imagePath": ["The uploaded file is not a valid PNG image."]}
    assert name not in app.storage.objects and app.db.state.movies == {}


@pytest.mark.parametrize(
    "path",
    [
        "anything.png",  # never uploaded, not even a name we hand out
        "A" * 32 + ".png",  # our names are lowercase
        "a" * 32 + ".PNG",
        "a" * 32 + ".svg",
        "a" * 32 + ".png.html",
        "a" * 31 + ".png",
        "sub/" + "a" * 32 + ".png",
        "",  # the prefix itself
        "%2e",
        "c" * 32 + ".png",  # a name we could hand out, never uploaded
        "c" * 32 + ".png%3Fv=2",  # an encoded "?" is part of the name: no object of ours
    ],
)
def test_a_path_under_our_prefix_that_is_no_uploaded_object_is_refused(path: str) -> None:
    app, admin, _ = _world()
    with pytest.raises(ValidationError) as caught:
        app.movies.create_movie(admin, {"title": "Alien", "imagePath": FakeStorage.BASE + path + "?v=1"})
    assert caught.value.errors == {"imagePath": [NOT_UPLOADED]}
    assert app.db.state.movies == {}


NEAR_MISSES = [
    "https://posters.example.evil.com/media/movies/{n}",
    "https://evilposters.example/media/movies/{n}",
    "https://posters.example-evil.com/media/movies/{n}",
    "https://posters.example:8443/media/movies/{n}",
    "https://posters.example/media/movies-old/{n}",
    "https://posters.example/media/moviesx/{n}",
    "https://posters.example/media/{n}",
    "https://posters.example/media/movies/../{n}",
    "https://posters.example/other/media/movies/{n}",
    "https://evil.com/https://posters.example/media/movies/{n}",
    "https://evil.com/?u=https://posters.example/media/movies/{n}",
    "https://evil.com#@posters.example/media/movies/{n}",
    "http://127.0.0.1:8001/media/movies/{n}",
    "http://127.0.0.1.nip.io:8000/media/movies/{n}",
    "http://10.0.0.1:8000/media/movies/{n}",
    "http://localhost.evil.com:8000/media/movies/{n}",
    "https://otherbucket.s3.us-east-1.amazonaws.com/media/movies/{n}",
    "https://s3.us-east-1.amazonaws.com/otherbucket/media/movies/{n}",
    "https://bucket.s3.us-east-1.amazonaws.com.evil.com/media/movies/{n}",
]


@pytest.mark.parametrize("template", NEAR_MISSES)
def test_near_misses_are_not_ours(template: str) -> None:
    own = OwnStorage(OWN_BASES)
    assert own.classify(template.format(n="a" * 32 + ".png")) is None


OTHER_HOSTS = st.sampled_from(
    ["images.example.org", "posters.example.org", "example", "bucket.s3.amazonaws.com.cn", "10.1.2.3"]
)


@SIMPLE
@given(OTHER_HOSTS, st.sampled_from(["", ":8000", ":443", ":80"]), st.text(max_size=40), OBJECT_NAMES)
def test_a_url_on_another_host_is_never_ours(host: str, port: str, path: str, name: str) -> None:
    own = OwnStorage(OWN_BASES)
    for scheme in ("http", "https"):
        assert own.classify(f"{scheme}://{host}{port}/{path}") is None
        assert own.classify(f"{scheme}://{host}{port}/media/movies/{name}") is None


@SIMPLE
@given(st.text(st.characters(codec="ascii"), max_size=60))
def test_a_path_outside_our_prefix_on_our_host_is_not_ours(path: str) -> None:
    """Whatever the path, unless its normalized segments start with the prefix's."""
    own = OwnStorage([FakeStorage.BASE])
    url = "https://posters.example/" + path
    location = locate(url)
    if location is None or location.segments[:2] != ("media", "movies"):
        assert own.classify(url) is None


def test_the_s3_bucket_answers_to_every_url_style() -> None:
    name = "d" * 64 + ".webp"
    on_aws = OwnStorage(
        [f"{url}/media/movies/" for url in s3_bucket_urls("my.bucket", "eu-west-1", endpoint_url=None)]
    )
    for url in (
        "https://my.bucket.s3.eu-west-1.amazonaws.com/media/movies/{n}",
        "https://my.bucket.s3.amazonaws.com/media/movies/{n}",
        "http://my.bucket.s3-eu-west-1.amazonaws.com/media/movies/{n}",
        "https://my.bucket.s3.dualstack.eu-west-1.amazonaws.com/media/movies/{n}",
        "http://my.bucket.s3-website-eu-west-1.amazonaws.com/media/movies/{n}",
        "https://s3.eu-west-1.amazonaws.com/my.bucket/media/movies/{n}",
        "https://S3.AmazonAWS.com/my.bucket/media/movies/{n}?versionId=3",
    ):
        assert on_aws.classify(url.format(n=name)) == OwnReference(name), url
    emulated = OwnStorage(
        [f"{url}/media/movies/" for url in s3_bucket_urls("b", "us-east-1", "http://127.0.0.1:4566")]
    )
    assert emulated.classify(f"http://localhost:4566/b/media/movies/{name}") == OwnReference(name)
    assert emulated.classify(f"http://[::1]:4566/b//media/movies/{name}/") == OwnReference(name)
    compatible = OwnStorage(
        [f"{url}/media/movies/" for url in s3_bucket_urls("b", "auto", "https://s3.example.net/")]
    )
    assert compatible.classify(f"https://B.S3.Example.Net/media/movies/{name}") == OwnReference(name)
    assert compatible.classify(f"https://s3.example.net:443/b/media/movies/{name}") == OwnReference(name)


def test_collect_garbage_keeps_an_object_referenced_in_any_spelling() -> None:
    app, admin, _ = _world()
    spelled = {
        "1" * 32 + ".png": "{url}?v=2",  # the reported data loss
        "2" * 32 + ".png": "{url}#poster",
        "3" * 64 + ".jpg": "{url}/",
        "4" * 32 + ".gif": "HTTPS://POSTERS.EXAMPLE:443/media//movies/{name}",
        "5" * 32 + ".webp": "https://old-cdn.example/x/%35{rest}",  # another host, percent-encoded
    }
    for name in spelled:
        app.storage.put(
            name,
            b"IMG:"
            + {"png": b"PNG", "jpg": b"JPEG", "gif": b"GIF", "webp": b"WEBP"}[name.rsplit(".", 1)[1]]
            + b":5x5",
        )
    stray = "6" * 32 + ".png"
    app.storage.put(stray, b"IMG:PNG:5x5")
    for i, (name, template) in enumerate(spelled.items()):
        url = template.format(url=app.storage.public_url(name), name=name, rest=name[1:])
        movie = app.movies.create_movie(admin, {"title": f"M{i}"})
        # As the Django import or an older version may have stored it: the spelling as it is.
        app.db.state.movies[movie.id] = attrs.evolve(movie, image_path=url)
    app.clock.advance(48 * 3600)
    assert list(app.uploads.collect_garbage(timedelta(hours=24))) == [stray]
    assert set(app.storage.objects) == set(spelled)


# ---- 6. a refused upload's name is spent (issue 13, item 7) -------------------------------


def test_a_refused_objects_name_is_spent_for_good() -> None:
    app, admin, alice = _world()
    offer = app.uploads.request_upload_url(alice, _png())  # no hash: a random name
    app.storage.put(offer.name, b"<html>evil</html>")
    with pytest.raises(ValidationError):
        app.movies.create_movie(admin, {"title": "Alien", "imagePath": offer.public_url})
    assert offer.name not in app.storage.objects
    assert app.uploads.upload_refused(offer.name)  # local storage refuses the upload URL now
    app.storage.put(offer.name, b"IMG:PNG:10x10")  # the same URL again (an S3 POST policy cannot refuse)
    with pytest.raises(ValidationError) as caught:
        app.movies.create_movie(admin, {"title": "Alien", "imagePath": offer.public_url})
    assert caught.value.errors == {"imagePath": [REJECTED]}
    assert offer.name not in app.storage.objects and offer.name not in app.db.state.verified
    assert app.db.state.movies == {}
    other = app.uploads.request_upload_url(alice, _png(1))
    assert not app.uploads.upload_refused(other.name)


def test_collect_garbage_removes_an_object_under_a_spent_name_at_once() -> None:
    app, admin, alice = _world()
    offer = app.uploads.request_upload_url(alice, _png())
    app.storage.put(offer.name, b"junk")
    with pytest.raises(ValidationError):
        app.uploads.check_poster(offer.public_url)
    app.storage.put(offer.name, b"IMG:PNG:10x10")  # landed again, just now
    young = app.uploads.request_upload_url(alice, _png(1))
    app.storage.put(young.name, b"IMG:PNG:10x10")
    assert list(app.uploads.collect_garbage(timedelta(hours=24))) == [offer.name]
    assert set(app.storage.objects) == {young.name}


def test_a_hash_whose_file_was_refused_gets_no_upload_url() -> None:
    app, _, alice = _world()
    name = HASH + ".png"
    app.storage.put(name, b"<html>evil</html>")
    with pytest.raises(ValidationError):
        app.uploads.check_poster(app.storage.public_url(name))
    with pytest.raises(ValidationError) as caught:
        app.uploads.request_upload_url(alice, _hashed())
    assert caught.value.errors == {"fileHash": [REJECTED_HASH]}
    assert app.db.state.grants == []


def test_a_short_spelling_of_a_canonical_url_too_long_to_store_is_refused() -> None:
    """A CDN base may be long while the bucket's own URL is short: 400, never a 500."""

    class LongCanonical(FakeStorage):
        BASE = "https://" + "p" * 150 + ".example/media/movies/"

        def object_bases(self) -> list[str]:
            return [self.BASE, "https://b.example/media/movies/"]

    app = make_app()
    storage = LongCanonical(app.clock)
    uploads = Uploads(app.db, storage, FakeInspector(), app.clock, UploadSettings())
    name = "f" * 64 + ".png"
    storage.put(name, b"IMG:PNG:10x10")
    with pytest.raises(ValidationError) as caught:
        uploads.check_poster("https://b.example/media/movies/" + name)
    assert caught.value.errors == {"imagePath": [TOO_LONG]}
    assert not uploads.upload_refused("../" + name) and not uploads.upload_refused(name)
