"""One polite, bounded HTTP GET for the watch: feeds, listing pages, articles, watched pages.

Every request: the URL (and each redirect's target) passes ``tfe.core.netguard.check_url``; one
User-Agent names the platform; conditional headers when validators are known; a timeout; redirects
followed by hand up to ``max_redirects`` (a loop or a chain too long fails), remembering whether every hop
was permanent (301/308) so the caller can update the source's URL; the body is read streamed, capped on
the wire and once decompressed (gzip and deflate are decoded here with a bounded inflater, so a gzip bomb
stops at the cap). Errors of the network or of the caps raise ``FetchError`` with a one-line reason; HTTP
statuses, 4xx and 5xx included, come back in the ``FetchResult`` for the poller to judge.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from tfe.core.errors import ValidationError
from tfe.core.netguard import UnsafeURLError, check_url
from tfe.core.settings import Settings

__all__ = ["FEED_ACCEPT", "HTML_ACCEPT", "FetchError", "FetchResult", "fetch", "make_client", "retry_after_s"]

FEED_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/xml;q=0.9, */*;q=0.5"
)
HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024


class FetchError(ValidationError):
    """A fetch that did not produce an HTTP answer to judge: network error, refused URL, cap, loop."""

    def __init__(self, message: str, *, kind: str = "network") -> None:
        super().__init__(message)
        self.kind = kind  # network, timeout, unsafe, too_large, redirects, encoding


@dataclass
class FetchResult:
    url: str  # the URL that answered, after redirects
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed_s: float
    permanent_url: str | None = None  # set when every redirect hop was permanent (301/308)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def make_client(settings: Settings, timeout_s: float | None = None) -> httpx.Client:
    """An httpx client for ``fetch``: no automatic redirects or decoding, the platform's User-Agent."""
    timeout = timeout_s if timeout_s is not None else settings.feed_timeout_s
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        follow_redirects=False,
        headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
    )


def retry_after_s(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds asked by a ``Retry-After`` header (seconds or HTTP date); ``None`` if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


class _Inflater:
    """Decodes gzip/deflate bodies incrementally, never holding more than ``limit`` decoded bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.size = 0
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj()
        else:
            raise FetchError(f"unsupported Content-Encoding {encoding!r}", kind="encoding")

    def feed(self, data: bytes) -> bytes:
        if self._z is None:
            out = data
        else:
            try:
                out = self._z.decompress(data, self.limit - self.size + 1)
            except zlib.error as exc:
                raise FetchError(f"corrupt compressed body: {exc}", kind="encoding") from exc
            if self._z.unconsumed_tail:
                raise FetchError(f"body over {self.limit} bytes once decompressed", kind="too_large")
        self.size += len(out)
        if self.size > self.limit:
            raise FetchError(f"body over {self.limit} bytes once decompressed", kind="too_large")
        return out


def _read_body(response: httpx.Response, max_bytes: int, max_decoded: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"body too large ({declared} bytes > {max_bytes})", kind="too_large")
    inflater = _Inflater(response.headers.get("content-encoding", "").strip().lower(), max_decoded)
    chunks: list[bytes] = []
    wire = 0
    for chunk in response.iter_raw(_CHUNK):
        wire += len(chunk)
        if wire > max_bytes:
            raise FetchError(f"body too large (over {max_bytes} bytes)", kind="too_large")
        chunks.append(inflater.feed(chunk))
    return b"".join(chunks)


def fetch(
    client: httpx.Client,
    url: str,
    settings: Settings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = FEED_ACCEPT,
    max_bytes: int | None = None,
) -> FetchResult:
    """GET ``url`` within the caps; see the module docstring."""
    limit = max_bytes or settings.max_feed_bytes
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.perf_counter()
    current = url
    all_permanent = True
    seen = {url}
    for _hop in range(settings.max_redirects + 1):
        try:
            check_url(current, allow_private=settings.fetch_allow_private)
        except UnsafeURLError as exc:
            raise FetchError(str(exc), kind="unsafe") from exc
        try:
            with client.stream("GET", current, headers=headers) as response:
                if response.status_code in _REDIRECTS and response.headers.get("location"):
                    target = urljoin(current, response.headers["location"])
                    all_permanent = all_permanent and response.status_code in (301, 308)
                    if target in seen:
                        raise FetchError(f"redirect loop at {target[:200]}", kind="redirects")
                    seen.add(target)
                    current = target
                    continue
                body = b""
                if response.status_code < 300:
                    body = _read_body(response, limit, settings.max_decompressed_bytes)
                return FetchResult(
                    url=current,
                    status=response.status_code,
                    headers=response.headers,
                    body=body,
                    elapsed_s=time.perf_counter() - started,
                    permanent_url=current if current != url and all_permanent else None,
                )
        except httpx.TimeoutException as exc:
            raise FetchError(
                f"timeout after {client.timeout.read}s ({type(exc).__name__})", kind="timeout"
            ) from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {str(exc)[:200]}", kind="network") from exc
    raise FetchError(f"more than {settings.max_redirects} redirects from {url[:200]}", kind="redirects")
