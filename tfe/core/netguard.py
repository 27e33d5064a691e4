"""Outbound URL checks against server-side request forgery (sources, articles, redirects, webhooks).

A URL must be http(s), name a host, and every address that host resolves to must be public: private,
loopback, link-local, multicast, reserved and unspecified addresses are refused unless the operator sets
``TFE_FETCH_ALLOW_PRIVATE=true`` (tests and the demo do). Checked before every request, redirects
included, so a public URL cannot redirect into the internal network.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from tfe.core.errors import ValidationError

__all__ = ["UnsafeURLError", "check_url", "is_public_address"]


class UnsafeURLError(ValidationError):
    """The URL may not be fetched (scheme, host or address refused)."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_url(url: str, *, allow_private: bool) -> str:
    """``url`` if it may be fetched, else ``UnsafeURLError`` with a one-line reason."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURLError(f"URL invalide : {url[:200]} ({exc})") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(f"seules les adresses http(s) sont acceptées : {url[:200]}")
    host = parts.hostname
    if not host:
        raise UnsafeURLError(f"adresse sans nom d'hôte : {url[:200]}")
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(
            host, port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURLError(f"hôte introuvable : {host} ({exc})") from exc
    for info in infos:
        address = str(info[4][0])
        if not is_public_address(address):
            raise UnsafeURLError(
                f"adresse refusée : {host} désigne une adresse privée ou locale ({address}) ;"
                " TFE_FETCH_ALLOW_PRIVATE=true l'autorise"
            )
    return url
