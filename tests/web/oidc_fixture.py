"""The test OpenID provider: the npm package ``oidc-provider`` (tests/oidc_provider/server.mjs) run with
Node.js on a free loopback port, and helpers that drive its sign-in screen over HTTP like a browser would.

``scripts/test.sh`` installs the package (``npm ci``); when ``node_modules`` is missing this module runs
``npm ci`` itself once. ``start_provider`` waits for the discovery document and stops the process after.
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc_provider"
CLIENT_ID = "tfe-tests"
CLIENT_SECRET = "tfe-tests-secret-123"  # the test provider's client; a test value, not a real secret


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_installed() -> None:
    """``npm ci`` when the provider's node_modules is missing (scripts/test.sh normally did it)."""
    if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    with open(PROVIDER_DIR / ".npm-ci.lock", "w") as lock:  # pytest workers install once, one at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            subprocess.run(
                ["npm", "ci", "--prefix", str(PROVIDER_DIR), "--no-audit", "--no-fund"],
                check=True,
                capture_output=True,
                timeout=300,
            )


@dataclass(frozen=True)
class LocalProvider:
    """A running oidc-provider and how to reach it."""

    issuer: str
    public_url: str  # the app's public URL the provider redirects back to

    def provider_entry(self, name: str = "test", **overrides: Any) -> dict[str, Any]:
        """One entry of a providers file for this provider, with ProConnect's claim names."""
        entry: dict[str, Any] = {
            "name": name,
            "label": "Fournisseur de test",
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "client_secret_env": "TFE_TEST_OIDC_SECRET",
            "scopes": ["openid", "email", "given_name", "usual_name", "siret", "organizational_unit"],
            "claims": {
                "email": "email",
                "given_name": "given_name",
                "family_name": "usual_name",
                "siret": "siret",
                "organisation": "organizational_unit",
            },
            "timeout_s": 3,
        }
        entry.update(overrides)
        return entry

    def sign_in(self, browser: httpx.Client, authorize_url: str, account: str) -> str:
        """Follow the provider's redirects from ``authorize_url``, sign ``account`` in on its screen, and
        return the path and query of the redirect back to the app (``public_url`` + path)."""
        url = authorize_url
        for _ in range(10):
            if url.startswith(self.public_url):
                return url[len(self.public_url) :]
            response = browser.get(url)
            if response.status_code == 200 and "/interaction/" in str(response.url):
                uid = re.search(r"/interaction/([^/?#]+)", str(response.url))
                assert uid is not None
                response = browser.get(
                    f"{self.issuer}/interaction/{uid.group(1)}/login", params={"account": account}
                )
            assert response.status_code in (302, 303), (response.status_code, response.text[:300])
            location = response.headers["location"]
            url = location if location.startswith("http") else f"{self.issuer}{location}"
        raise AssertionError("the provider never redirected back to the app")


@contextmanager
def start_provider(public_url: str, provider_names: tuple[str, ...] = ("test",)) -> Iterator[LocalProvider]:
    """Run server.mjs on a free port with one client whose redirect URIs are the app's callbacks."""
    ensure_installed()
    port = free_port()
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URIS": ",".join(f"{public_url}/auth/oidc/{n}/callback" for n in provider_names),
        "OIDC_LOGOUT_URIS": f"{public_url}/login",
    }
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: a full pipe would block the provider
        process = subprocess.Popen(["node", "server.mjs"], cwd=PROVIDER_DIR, env=env, stdout=log, stderr=log)
        issuer = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    output = log.read().decode(errors="replace")
                    raise RuntimeError(f"the test OIDC provider exited: {output[-2000:]}")
                try:
                    if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the test OIDC provider did not start within 20 s")
                time.sleep(0.1)
            yield LocalProvider(issuer=issuer, public_url=public_url)
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@contextmanager
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers (a provider that hangs)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()
