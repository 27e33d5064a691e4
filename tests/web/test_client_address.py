"""``client_address``: X-Forwarded-For is believed only from configured proxies (addresses or networks),
read from the right; malformed values never become the address."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from tests.paths import REPO
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.client import client_address, parse_ip, trusted_networks
from tfe.core.settings import Settings


class _Runtime:
    def __init__(self, proxies: list[str]) -> None:
        self.settings = Settings(environment="test", trusted_proxies=proxies)


def _app(proxies: list[str]) -> FastAPI:
    app = FastAPI()
    app.state.runtime = _Runtime(proxies)

    @app.get("/ip")
    def ip(request: Request) -> dict[str, Any]:
        return {"address": client_address(request)}

    return app


def _address(proxies: list[str], peer: str, *forwarded: str) -> str:
    client = TestClient(_app(proxies), client=(peer, 4242))
    headers = [("x-forwarded-for", value) for value in forwarded]
    response = client.get("/ip", headers=headers)
    assert response.status_code == 200
    return str(response.json()["address"])


PROXIES = ["10.0.0.1", "10.8.0.0/16", "not-a-network", "fd00::/8"]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.5", ("198.51.100.1",), "203.0.113.5"),  # an untrusted peer: its header is ignored
        ("10.0.0.1", ("198.51.100.1",), "198.51.100.1"),  # a trusted proxy: believed
        ("10.0.0.1", (), "10.0.0.1"),  # a proxy without the header is the client
        ("10.8.3.4", ("1.1.1.1, 198.51.100.1, 10.8.0.9",), "198.51.100.1"),  # right-most untrusted hop
        ("10.8.3.4", ("1.1.1.1", "198.51.100.1"), "198.51.100.1"),  # several header lines: in order
        ("10.0.0.1", ("garbage, 198.51.100.1",), "198.51.100.1"),  # garbage left of the client: unread
        ("10.0.0.1", ("198.51.100.1, garbage",), "10.0.0.1"),  # garbage from the proxy: stop there
        ("10.0.0.1", ("198.51.100.1, ,",), "198.51.100.1"),  # empty elements are skipped
        ("10.0.0.1", ("198.51.100.1:5555",), "198.51.100.1"),  # a port is dropped
        ("10.0.0.1", ("[2001:db8::7]:443",), "2001:db8::7"),
        ("fd00::3", ("2001:db8::7",), "2001:db8::7"),  # an IPv6 proxy network
        ("::ffff:10.0.0.1", ("198.51.100.1",), "198.51.100.1"),  # an IPv4-mapped peer is IPv4
        ("10.0.0.1", ("10.8.0.1, 10.0.0.1",), "10.8.0.1"),  # only proxies: the farthest one
        ("testclient", ("198.51.100.1",), "testclient"),  # a peer that is no IP is never a proxy
    ],
)
def test_client_address(peer: str, forwarded: tuple[str, ...], expected: str) -> None:
    assert _address(PROXIES, peer, *forwarded) == expected


def test_no_proxies_configured_trusts_no_header() -> None:
    assert _address([], "127.0.0.1", "198.51.100.1") == "127.0.0.1"


def test_rotating_forwarded_for_from_an_untrusted_peer_changes_nothing() -> None:
    seen = {_address(PROXIES, "203.0.113.5", f"198.51.100.{n}") for n in range(5)}
    assert seen == {"203.0.113.5"}


def test_an_oversized_header_costs_nothing_and_is_read_from_the_right() -> None:
    spoofed = ", ".join(f"192.0.2.{n % 250}" for n in range(2000))
    assert _address(PROXIES, "10.0.0.1", spoofed + ", 198.51.100.9") == "198.51.100.9"


def test_parse_ip_and_networks() -> None:
    assert parse_ip(" 192.0.2.1 ") is not None and parse_ip("192.0.2.256") is None
    assert parse_ip("unknown") is None and parse_ip("") is None and parse_ip("[::1") is not None
    assert [str(n) for n in trusted_networks(["10.0.0.1", "bad", "10.8.0.0/16", "fd00::/8"])] == [
        "10.0.0.1/32",
        "10.8.0.0/16",
        "fd00::/8",
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _failed_login(client: httpx.Client, forwarded: str) -> int:
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    data = {"email": "nobody@alpha.fr", "password": "wrong-password!", "csrf": csrf, "next": "/"}
    return client.post("/login", data=data, headers={"X-Forwarded-For": forwarded}).status_code


@pytest.mark.slow  # one server start (the web app's imports): ~5 s
def test_tfe_serve_believes_no_forwarded_for_from_an_unconfigured_proxy(tmp_path: Path) -> None:
    """uvicorn itself would believe X-Forwarded-For from 127.0.0.1: ``tfe serve`` turns that off, so
    only TFE_TRUSTED_PROXIES decides (here: none, and rotating the header does not reset the count)."""
    settings = Settings(data_dir=tmp_path / "data", environment="test", admin_password="admin-password-123")
    rt = Runtime(settings)
    init_installation(rt)
    rt.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TFE_")}
    env.update(
        TFE_DATA_DIR=str(settings.data_dir),
        TFE_ENVIRONMENT="test",
        TFE_LOGIN_ADDRESS_MAX_FAILURES="2",
        HAYSTACK_TELEMETRY_ENABLED="False",
        OMP_NUM_THREADS="1",
    )
    port = _free_port()
    command = [sys.executable, "-m", "tfe", "serve", "--port", str(port), "--no-worker"]
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline and proc.poll() is None, "tfe serve did not start"
                time.sleep(0.2)
            codes = [_failed_login(client, f"203.0.113.{n}") for n in range(3)]
        assert codes == [401, 401, 429]
    finally:
        proc.terminate()
        proc.wait(timeout=15)
