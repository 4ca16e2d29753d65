"""Object names, storage keys and public URLs: the naming both storage adapters share."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, urlsplit


class PrefixedObjectUrls:
    """Objects live at ``<prefix><name>`` and are served at ``<base>/<prefix><name>``; the
    same objects may also be served under ``aliases`` (other URL styles of the same storage)."""

    def __init__(self, base: str, prefix: str, aliases: Sequence[str] = ()) -> None:
        self._base = base.rstrip("/")
        self._prefix = prefix
        self._aliases = [alias.rstrip("/") for alias in aliases]

    def key(self, name: str) -> str:
        return self._prefix + name

    def public_url(self, name: str) -> str:
        return f"{self._base}/{quote(self.key(name))}"

    def object_bases(self) -> Sequence[str]:
        """Where objects are served by name, the canonical base first (the core decides,
        from these, which URLs are ours, however spelled)."""
        bases = [self._base, *(alias for alias in self._aliases if alias != self._base)]
        return [f"{base}/{quote(self._prefix)}" for base in bases]


def s3_bucket_urls(bucket: str, region: str, endpoint_url: str | None) -> list[str]:
    """Every URL style a bucket answers to, the one boto3 would use first: with an endpoint
    (S3-compatible services, the emulator) path-style and virtual-hosted on it; on AWS
    virtual-hosted and path-style, regional, global, legacy dash, dual-stack, website."""
    if endpoint_url:
        endpoint = endpoint_url.rstrip("/")
        parts = urlsplit(endpoint)
        return [f"{endpoint}/{bucket}", f"{parts.scheme}://{bucket}.{parts.netloc}{parts.path.rstrip('/')}"]
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    styles = [f"s3.{region}", "s3", f"s3-{region}", f"s3.dualstack.{region}"]
    virtual = [f"https://{bucket}.{style}.{domain}" for style in styles]
    websites = [
        f"http://{bucket}.s3-website-{region}.{domain}",
        f"http://{bucket}.s3-website.{region}.{domain}",
    ]
    path_style = [f"https://{style}.{domain}/{bucket}" for style in styles]
    return [*virtual, *websites, *path_style]
