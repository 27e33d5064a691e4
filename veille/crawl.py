"""Page sources: crawl a listing page and the articles it links to, with Scrapy in a child process.

A ``page`` source is a listing page without a feed. Its ``config`` gives the selectors::

    {"links": "<article links on the listing>", "title": "...", "body": "...", "date": "...",
     "selector_type": "css" | "xpath", "max_articles": 20}

``links`` is required; ``title`` falls back to ``og:title``/``<title>``, ``body`` to trafilatura's main
text, ``date`` to ``article:published_time`` / ``<time datetime>``. The first ``max_articles`` links of
the listing are considered and those in ``known_urls`` are not fetched again.

Scrapy runs in a child process (``python -m veille.crawl_worker``): Twisted's reactor cannot be restarted
in one process and the poller calls from worker threads, so this module never imports Scrapy or Twisted.
The child obeys robots.txt, applies the SSRF guard to every request (redirects included), the size caps,
the per-host concurrency and delay; it caps its own memory and the parent kills it at a hard time limit.
``crawl_listing`` raises only for a bad config (``ValidationError``); a crawl that fails, times out or
crashes comes back as a ``CrawlResult`` whose ``errors`` say why (with the articles gathered until then).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from tfe.core.errors import ValidationError
from tfe.core.settings import Settings
from veille.pagewatch import SELECTOR_TYPES, validate_selector

__all__ = [
    "CRAWL_MEMORY_MB",
    "CrawlResult",
    "CrawledArticle",
    "crawl_listing",
    "crawl_timeout_s",
    "scrapy_settings",
    "validate_crawl_config",
]

log = logging.getLogger(__name__)

CRAWL_MEMORY_MB = 1024  # RLIMIT_DATA of the child (Python, Scrapy and lxml need about 150 MB)
MAX_ARTICLES_LIMIT = 100
DEFAULT_MAX_ARTICLES = 20
_ROOT = Path(__file__).resolve().parent.parent  # the directory holding the ``veille`` package
_STDERR_TAIL = 8192
_MEMORY_MARKERS = ("MemoryError", "Cannot allocate memory", "out of memory")


@dataclass(frozen=True)
class CrawledArticle:
    url: str  # the link as found on the listing (before any redirect): what ``known_urls`` is matched with
    title: str
    text: str
    published_at: dt.datetime | None


@dataclass
class CrawlResult:
    articles: list[CrawledArticle] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    robots_refused: bool = False  # robots.txt forbade the listing or at least one article
    listing_status: int | None = None  # the listing's HTTP status; None when it was never answered


def validate_crawl_config(config: object) -> dict[str, Any]:
    """The page config checked and completed (``selector_type`` css, ``max_articles`` 20 by default)."""
    if not isinstance(config, dict):
        raise ValidationError("la configuration d'une source de type page doit être un objet JSON")
    selector_type = config.get("selector_type", "css")
    if selector_type not in SELECTOR_TYPES:
        raise ValidationError(f"selector_type doit valoir css ou xpath (reçu {selector_type!r})")
    checked: dict[str, Any] = {**config, "selector_type": selector_type}
    checked["links"] = validate_selector(config.get("links"), selector_type, field="links")
    for name in ("title", "body", "date"):
        if config.get(name) is not None:
            checked[name] = validate_selector(config[name], selector_type, field=name)
    max_articles = config.get("max_articles", DEFAULT_MAX_ARTICLES)
    if isinstance(max_articles, bool) or not isinstance(max_articles, int):
        raise ValidationError("max_articles doit être un nombre entier")
    if not 1 <= max_articles <= MAX_ARTICLES_LIMIT:
        raise ValidationError(f"max_articles doit être compris entre 1 et {MAX_ARTICLES_LIMIT}")
    checked["max_articles"] = max_articles
    return checked


def crawl_timeout_s(settings: Settings, max_articles: int) -> float:
    """The default hard limit of one crawl: robots.txt, listing and articles at the host's pace."""
    rounds = 2 + -(-max_articles // settings.poll_host_concurrency)
    return settings.fulltext_timeout_s * 2 + rounds * (settings.poll_host_delay_s + 1.0) + 10.0


def scrapy_settings(settings: Settings, timeout_s: float) -> dict[str, Any]:
    """The Scrapy settings of a crawl (the worker adds the SSRF middleware)."""
    per_request = max(1.0, min(settings.fulltext_timeout_s, timeout_s))
    return {
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "ROBOTSTXT_OBEY": True,
        "USER_AGENT": settings.user_agent,
        "DOWNLOAD_TIMEOUT": per_request,
        "DOWNLOAD_MAXSIZE": settings.max_page_bytes,
        "DOWNLOAD_WARNSIZE": max(1, settings.max_page_bytes // 2),
        "CONCURRENT_REQUESTS": max(2, settings.poll_host_concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.poll_host_concurrency,
        "DOWNLOAD_DELAY": settings.poll_host_delay_s,
        "DOWNLOAD_DELAY_JITTER": 0,
        "REDIRECT_MAX_TIMES": settings.max_redirects,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 1,
        "COOKIES_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "LOG_STDOUT": False,
        # stop gracefully a little before the parent's hard limit, so the result says why
        "CLOSESPIDER_TIMEOUT": max(1.0, timeout_s - min(5.0, timeout_s / 4)),
        "MEMUSAGE_ENABLED": False,
        "STATS_DUMP": False,
        "LOGSTATS_INTERVAL": 0,
    }


def _article(record: object) -> CrawledArticle | None:
    if not isinstance(record, dict) or not isinstance(record.get("url"), str):
        return None
    published = record.get("published_at")
    try:
        when = dt.datetime.fromisoformat(published) if isinstance(published, str) else None
    except ValueError:
        when = None
    return CrawledArticle(
        url=record["url"],
        title=str(record.get("title") or ""),
        text=str(record.get("text") or ""),
        published_at=when,
    )


def _read_answer(stdout: bytes, result: CrawlResult) -> bool:
    """Fill ``result`` from the worker's JSON lines; True when the worker reached its end."""
    finished = False
    for line in stdout.decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if "article" in record and (article := _article(record["article"])) is not None:
            result.articles.append(article)
        elif "error" in record:
            result.errors.append(str(record["error"]))
        elif record.get("robots_refused"):
            result.robots_refused = True
        elif isinstance(record.get("done"), dict):
            finished = True
            done = record["done"]
            status = done.get("listing_status")
            result.listing_status = status if isinstance(status, int) else None
            if done.get("reason") == "closespider_timeout":
                result.errors.append("crawl stopped at its time limit; the result is partial")
    return finished


def _failure(stderr: IO[bytes], returncode: int | None, memory_mb: int) -> str:
    """One line saying why the worker ended without its final record (from its stderr's tail)."""
    stderr.seek(max(0, stderr.seek(0, os.SEEK_END) - _STDERR_TAIL))
    tail = stderr.read().decode("utf-8", "replace")
    if memory_mb > 0 and any(marker in tail for marker in _MEMORY_MARKERS):
        return f"crawl worker failed: over its memory limit ({memory_mb} MB)"
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return f"crawl worker failed (exit status {returncode}): {lines[-1][:200] if lines else 'no output'}"


def crawl_listing(
    url: str,
    config: dict[str, Any],
    settings: Settings,
    *,
    known_urls: set[str] | frozenset[str] = frozenset(),
    timeout_s: float | None = None,
    memory_mb: int = CRAWL_MEMORY_MB,
) -> CrawlResult:
    """Crawl the listing at ``url`` and its new articles (see the module docstring).

    ``timeout_s`` is the hard limit of the child process (default ``crawl_timeout_s``); ``memory_mb``
    its data memory cap (0: none). Raises ``ValidationError`` only for a bad ``config``."""
    checked = validate_crawl_config(config)
    limit = timeout_s if timeout_s is not None else crawl_timeout_s(settings, checked["max_articles"])
    job = {
        "url": url,
        "config": checked,
        "known_urls": sorted(known_urls),
        "allow_private": settings.fetch_allow_private,
        "memory_mb": memory_mb,
        "scrapy": scrapy_settings(settings, limit),
    }
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
    result = CrawlResult()
    started = time.monotonic()
    with tempfile.TemporaryFile(prefix="tfe-crawl-") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "veille.crawl_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            close_fds=True,
        )
        timed_out = False
        try:
            stdout, _ = proc.communicate(json.dumps(job).encode("utf-8"), timeout=limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            stdout, _ = proc.communicate()  # what the child wrote before it was killed
        finished = _read_answer(stdout, result)
        if timed_out:
            result.errors.append(f"crawl timed out after {limit:g} s (stopped)")
        elif not finished:
            result.errors.append(_failure(stderr, proc.returncode, memory_mb))
    log.info(
        "crawl url=%s articles=%d errors=%d status=%s seconds=%.1f",
        urlsplit(url)._replace(query="", fragment="").geturl()[:200],  # a query string may carry a key
        len(result.articles),
        len(result.errors),
        result.listing_status,
        time.monotonic() - started,
    )
    return result
