"""The client's address: the socket peer, or the first untrusted hop of ``X-Forwarded-For`` when the peer
is one of the configured reverse proxies (``TFE_TRUSTED_PROXIES``); never a header from anyone else.

``X-Forwarded-For`` is read from the right: each trusted proxy appended the address it got the request
from, so the right-most address that is not a trusted proxy is the client. Whatever lies to its left was
written by the client and is ignored. A malformed hop stops the walk (nothing to its left can be
believed): the answer is then the last trusted proxy seen. Proxies are IP addresses or CIDR networks;
malformed entries of ``TFE_TRUSTED_PROXIES`` are ignored with a warning.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from functools import lru_cache

from fastapi import Request

__all__ = ["client_address", "parse_ip", "trusted_networks"]

log = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: At most this many hops of X-Forwarded-For are examined (an oversized header costs nothing).
MAX_HOPS = 32


def parse_ip(value: str) -> IPAddress | None:
    """An address from a header value (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:80``, ``::1``), or None."""
    text = value.strip()
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@lru_cache(maxsize=32)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    networks: list[IPNetwork] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            log.warning("TFE_TRUSTED_PROXIES: %r is neither an IP address nor a network; ignored", entry)
    return tuple(networks)


def trusted_networks(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """The valid entries of ``TFE_TRUSTED_PROXIES`` as networks (an address is a /32 or /128)."""
    return _networks(tuple(entries))


def _trusted(ip: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(ip.version == net.version and ip in net for net in networks)


def _forwarded_hops(request: Request) -> list[str]:
    hops: list[str] = []
    for header in request.headers.getlist("x-forwarded-for"):
        hops.extend(header.split(","))
    return hops[-MAX_HOPS:]


def client_address(request: Request) -> str:
    """The address the request came from, as a string (the peer's host when it is not an IP)."""
    peer = request.client.host if request.client else "?"
    peer_ip = parse_ip(peer)
    if peer_ip is None:
        return peer
    networks = trusted_networks(request.app.state.runtime.settings.trusted_proxies)
    if not networks or not _trusted(peer_ip, networks):
        return str(peer_ip)
    current = peer_ip
    for hop in reversed(_forwarded_hops(request)):
        ip = parse_ip(hop)
        if ip is None:
            if hop.strip():  # an empty element ("a,,b") is skipped; garbage ends the walk
                break
            continue
        current = ip
        if not _trusted(ip, networks):
            break
    return str(current)
