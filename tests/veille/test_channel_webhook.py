"""The webhook channel against a real HTTP server on loopback: signature, statuses, timeouts, guard."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

import pytest

from tests.veille.smtpserver import closed_port
from tfe.core.settings import Settings
from veille.alerts.digest import Digest
from veille.channels.testing import ChannelConformance, ChannelHarness, Failing, sample_digest
from veille.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookChannel, body_of, sign

SECRET = "whsec-partenaire-42"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A partner's endpoint: ``/ok`` answers 204, ``/status/N`` answers N, ``/slow`` sleeps 2 s."""

    port: int = 0
    received: list[Received] = field(default_factory=list)

    def url(self, path: str = "/ok") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            state.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if self.path == "/slow":
                time.sleep(2)
            status = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/status/") else 204
            self.send_response(status)
            if status in (301, 302):
                self.send_header("Location", state.url("/ok"))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def verify(secret: str, headers: dict[str, str], body: bytes, *, tolerance_s: int = 300) -> bool:
    """The receiver's check, exactly as documented in docs/api.md (« Webhooks »)."""
    timestamp = headers["x-tfe-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance_s:
        return False
    expected = (
        "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, headers["x-tfe-signature"])


def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"feed_timeout_s": 0.5})


class WebhookHarness(ChannelHarness):
    def __init__(self, settings: Settings, receiver: Receiver) -> None:
        self.settings = fast(settings)
        self.channel = WebhookChannel(self.settings)
        self.receiver = receiver
        self.target = receiver.url("/ok")
        self.secret = SECRET

    def arrived(self, digest: Digest) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for hit in self.receiver.received:
            assert verify(SECRET, hit.headers, hit.body)
            out.extend((e["title"], e["url"]) for e in json.loads(hit.body)["entries"])
        return out

    def failing(self, kind: Literal["temporary", "permanent"]) -> Failing | None:
        return self.channel, self.receiver.url("/status/503" if kind == "temporary" else "/status/404")

    def unreachable(self) -> Failing | None:
        return self.channel, f"http://127.0.0.1:{closed_port()}/hook"


class TestWebhookConformance(ChannelConformance):
    @pytest.fixture
    def harness(self, settings: Settings, receiver: Receiver) -> ChannelHarness:
        return WebhookHarness(settings, receiver)


def test_signature_verifies_with_the_documented_algorithm(settings: Settings, receiver: Receiver) -> None:
    digest = sample_digest(7)
    result = WebhookChannel(settings).send(digest, target=receiver.url("/ok?key=abc"), secret=SECRET)
    assert result == result.__class__("sent", "HTTP 204")
    hit = receiver.received[0]
    assert hit.path == "/ok?key=abc" and hit.headers["content-type"] == "application/json; charset=utf-8"
    assert hit.headers["x-tfe-event"] == "digest" and hit.body == body_of(digest)
    assert verify(SECRET, hit.headers, hit.body)
    assert not verify("another-secret", hit.headers, hit.body)
    assert not verify(SECRET, hit.headers, hit.body + b" ")  # a changed body fails
    stale = {**hit.headers, "x-tfe-timestamp": str(int(hit.headers["x-tfe-timestamp"]) - 1)}
    assert not verify(SECRET, stale, hit.body)  # the timestamp is signed too
    payload = json.loads(hit.body)
    assert payload == digest.as_dict() and payload["entries"][1]["grown_by"] == 2
    assert sign(SECRET, hit.headers["x-tfe-timestamp"], hit.body) == hit.headers["x-tfe-signature"]
    assert TIMESTAMP_HEADER.lower() in hit.headers and SIGNATURE_HEADER.lower() in hit.headers


@pytest.mark.parametrize(
    ("path", "outcome"),
    [
        ("/status/200", "sent"),
        ("/status/500", "temporary"),
        ("/status/502", "temporary"),
        ("/status/429", "temporary"),
        ("/status/400", "permanent"),
        ("/status/410", "permanent"),
        ("/status/301", "permanent"),
    ],
)
def test_statuses(settings: Settings, receiver: Receiver, path: str, outcome: str) -> None:
    result = WebhookChannel(settings).send(sample_digest(), target=receiver.url(path), secret=SECRET)
    assert result.outcome == outcome and path.rsplit("/", 1)[1] in result.detail
    assert [hit.path for hit in receiver.received] == [path]  # one request, the redirect not followed


def test_timeout_is_temporary(settings: Settings, receiver: Receiver) -> None:
    started = time.perf_counter()
    result = WebhookChannel(fast(settings)).send(sample_digest(), target=receiver.url("/slow"), secret=SECRET)
    assert result.outcome == "temporary" and "délai dépassé" in result.detail
    assert time.perf_counter() - started < 1.9


def test_guard_refuses_bad_urls(settings: Settings, receiver: Receiver) -> None:
    guarded = WebhookChannel(settings.model_copy(update={"fetch_allow_private": False}))
    private = guarded.send(sample_digest(), target=receiver.url("/ok"), secret=SECRET)
    assert private.outcome == "permanent" and "TFE_FETCH_ALLOW_PRIVATE" in private.detail
    channel = WebhookChannel(settings)
    ftp = channel.send(sample_digest(), target="ftp://partner.example.org/hook", secret=SECRET)
    assert ftp.outcome == "permanent" and "http(s)" in ftp.detail
    itself = channel.send(sample_digest(), target=settings.public_url + "/api/hook", secret=SECRET)
    assert itself.outcome == "permanent" and "plateforme elle-même" in itself.detail
    unsigned = channel.send(sample_digest(), target=receiver.url("/ok"), secret=None)
    assert unsigned.outcome == "permanent" and "secret" in unsigned.detail
    assert receiver.received == []
