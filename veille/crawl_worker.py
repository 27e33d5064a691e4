"""The child process of ``veille.crawl``: one Scrapy crawl of a listing page and its articles.

Run as ``python -m veille.crawl_worker``; only this process imports Scrapy and Twisted (a Twisted reactor
cannot be restarted in one process, and the poller calls crawls from worker threads). It reads one JSON
job on stdin, caps its own data memory (``RLIMIT_DATA``, as ``ingest/tika_worker.py`` does), installs the
asyncio reactor, runs the spider with ``AsyncCrawlerRunner``, and writes JSON lines on stdout as it goes,
so that a crawl killed at the parent's hard time limit still hands back what it had:

    {"article": {"url": ..., "title": ..., "text": ..., "published_at": ISO 8601 | null}}
    {"error": "one-line reason"}
    {"robots_refused": true}
    {"done": {"listing_status": int | null, "reason": "finished" | "closespider_timeout" | ...}}

The job: ``{"url", "config" (checked by the parent), "known_urls", "allow_private", "memory_mb",
"scrapy" (the Scrapy settings the parent computed)}``. Every request (redirects and robots.txt included)
passes ``tfe.core.netguard.check_url`` in ``GuardMiddleware`` before any other downloader middleware.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import os
import resource
import sys
from collections.abc import AsyncIterator, Iterator
from typing import IO, Any
from urllib.parse import urldefrag

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from tfe.core.netguard import UnsafeURLError, check_url
from veille.fulltext import main_text
from veille.pagewatch import node_text, page_title, select

__all__ = ["GuardMiddleware", "ListingSpider", "article_fields", "listing_links", "main"]

ARTICLE_MAX_CHARS = 200_000
_DATE_QUERIES = (
    '//meta[@property="article:published_time"]/@content',
    '//meta[@itemprop="datePublished"]/@content',
    '//meta[@name="date" or @name="DC.date.issued" or @name="dcterms.date"]/@content',
    "//time[@datetime]/@datetime",
)


class RefusedURL(IgnoreRequest):
    """The SSRF guard refused the request's URL (the message is the guard's reason)."""


class GuardMiddleware:
    """Downloader middleware: refuse any request whose URL the SSRF guard refuses (redirects included)."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler: Any) -> GuardMiddleware:
        return cls(crawler.settings.getbool("TFE_FETCH_ALLOW_PRIVATE"))

    def process_request(self, request: Request) -> None:
        try:
            check_url(request.url, allow_private=self.allow_private)
        except UnsafeURLError as exc:
            raise RefusedURL(str(exc)) from exc


def _parse_date(value: str | None) -> dt.datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    when: dt.datetime | None = None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def listing_links(response: TextResponse, config: dict[str, Any]) -> list[str]:
    """Absolute article URLs the ``links`` selector finds, in page order, de-duplicated, at most
    ``max_articles``. A match can be an ``href`` value, a link, or an element holding a link."""
    urls: list[str] = []
    for node in select(response.selector, config["links"], config["selector_type"]):
        if isinstance(node.root, str):
            href: str | None = node.root
        else:
            href = node.attrib.get("href") or node.xpath(".//a/@href").get()
        if not href or not href.strip():
            continue
        url = urldefrag(response.urljoin(href.strip()))[0]
        if url.startswith(("http://", "https://")) and url not in urls:
            urls.append(url)
        if len(urls) >= config["max_articles"]:
            break
    return urls


def _body_text(response: TextResponse, config: dict[str, Any]) -> str:
    if config.get("body"):
        parts = [node_text(n) for n in select(response.selector, config["body"], config["selector_type"])]
        return "\n".join(part for part in parts if part)
    return main_text(response.text, response.url)


def article_fields(response: TextResponse, config: dict[str, Any]) -> dict[str, Any]:
    """Title, text and publication date of one article page (selectors first, then the fallbacks)."""
    kind = config["selector_type"]
    title = ""
    if config.get("title"):
        found = select(response.selector, config["title"], kind)
        title = " ".join(node_text(found[0]).split()) if found else ""
    title = title or page_title(response.selector, default=response.url)
    published: dt.datetime | None = None
    if config.get("date"):
        for node in select(response.selector, config["date"], kind):
            raw = node.root if isinstance(node.root, str) else node.attrib.get("datetime") or node_text(node)
            published = _parse_date(str(raw))
            if published:
                break
    for query in _DATE_QUERIES:
        if published:
            break
        published = _parse_date(response.xpath(query).get())
    return {
        "url": response.url,
        "title": title[:500],
        "text": _body_text(response, config)[:ARTICLE_MAX_CHARS],
        "published_at": published.isoformat() if published else None,
    }


class _Sink:
    """Writes the JSON lines of the module docstring on the saved stdout."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.listing_status: int | None = None

    def emit(self, **record: Any) -> None:
        self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.stream.flush()

    def error(self, message: str) -> None:
        self.emit(error=message[:500])


class ListingSpider(scrapy.Spider):
    """The listing page, then each article it links to (known URLs skipped)."""

    name = "tfe_listing"

    def __init__(self, job: dict[str, Any], sink: _Sink, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.config: dict[str, Any] = job["config"]
        self.known = set(job.get("known_urls") or ())
        self.sink = sink

    async def start(self) -> AsyncIterator[Request]:
        yield Request(
            self.job["url"],
            callback=self.parse_listing,
            errback=self.failed,
            meta={"tfe_listing": True},  # redirects followed; 4xx/5xx reach ``failed`` as HttpError
            dont_filter=True,
        )

    def parse_listing(self, response: Response) -> Iterator[Request]:
        self.sink.listing_status = response.status
        if not isinstance(response, TextResponse):
            self.sink.error(f"listing page is not HTML: {response.url[:200]}")
            return
        for url in listing_links(response, self.config):
            if url not in self.known:
                yield Request(url, callback=self.parse_article, errback=self.failed)

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        if not isinstance(response, TextResponse):
            self.sink.error(f"article is not HTML: {response.url[:200]}")
            return
        fields = article_fields(response, self.config)
        # the link as the listing gives it, even when it redirected: what ``known_urls`` holds next time
        fields["url"] = (response.meta.get("redirect_urls") or [response.url])[0]
        if not fields["text"]:
            self.sink.error(f"no text found in article {response.url[:200]}")
            return
        yield fields

    def failed(self, failure: Any) -> None:
        exc = failure.value
        url = str(getattr(failure.request, "url", ""))[:200]
        if isinstance(exc, HttpError):
            if failure.request.meta.get("tfe_listing"):
                self.sink.listing_status = exc.response.status
            self.sink.error(f"HTTP {exc.response.status} for {url}")
        elif isinstance(exc, RefusedURL):
            self.sink.error(f"URL refused: {exc}")
        elif isinstance(exc, IgnoreRequest) and "robots.txt" in str(exc):
            self.sink.emit(robots_refused=True)
            self.sink.error(f"forbidden by robots.txt: {url}")
        else:
            self.sink.error(f"{type(exc).__name__} for {url}: {str(exc)[:200]}")


def _cap_memory(memory_mb: int) -> None:
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _crawl(job: dict[str, Any], sink: _Sink) -> None:
    """Run the spider to its end in the asyncio reactor of this process."""
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from scrapy.crawler import AsyncCrawlerRunner
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.log import configure_logging
    from twisted.internet import reactor as installed

    reactor: Any = installed  # the asyncio reactor installed above (typed as an interface by Twisted)

    scrapy_settings = dict(job["scrapy"])
    scrapy_settings["DOWNLOADER_MIDDLEWARES"] = {GuardMiddleware: 1}
    scrapy_settings["TFE_FETCH_ALLOW_PRIVATE"] = bool(job["allow_private"])
    scrapy_settings["LOG_INSTALL_ROOT_HANDLER"] = True
    configure_logging(scrapy_settings)
    runner = AsyncCrawlerRunner(scrapy_settings)
    done: dict[str, Any] = {"reason": "unknown"}

    def scraped(item: dict[str, Any]) -> None:
        sink.emit(article=item)

    def closed(reason: str) -> None:
        done["reason"] = reason

    def spider_error(failure: Any, response: Response) -> None:
        exc = failure.value
        sink.error(f"cannot read {response.url[:200]}: {type(exc).__name__}: {str(exc)[:200]}")

    async def run() -> None:
        try:
            crawler = runner.create_crawler(ListingSpider)
            crawler.signals.connect(scraped, signal=signals.item_scraped)
            crawler.signals.connect(closed, signal=signals.spider_closed)
            crawler.signals.connect(spider_error, signal=signals.spider_error)
            await runner.crawl(crawler, job=job, sink=sink)
        except MemoryError:
            sink.error(f"crawl worker failed: over its memory limit ({job.get('memory_mb')} MB)")
            done["reason"] = "memory"
        except Exception as exc:  # reported to the parent, which never sees a traceback
            sink.error(f"crawl failed: {type(exc).__name__}: {str(exc)[:200]}")
            done["reason"] = "crashed"
        finally:
            reactor.callLater(0, reactor.stop)

    deferred_from_coro(run())
    reactor.run(installSignalHandlers=False)
    sink.emit(done={"listing_status": sink.listing_status, "reason": done["reason"]})


def main() -> int:
    """Read the job on stdin, crawl, answer in JSON lines on stdout (see the module docstring)."""
    job = json.loads(sys.stdin.read())
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else printed goes to stderr, never into the answer
    sink = _Sink(out)
    try:
        _cap_memory(int(job.get("memory_mb") or 0))
        _crawl(job, sink)
    except MemoryError:
        sink.error(f"crawl worker failed: over its memory limit ({job.get('memory_mb')} MB)")
        return 3
    logging.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
