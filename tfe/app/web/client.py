"""The client's address: the socket peer, or the first untrusted hop of ``X-Forwarded-For`` when the peer
is one of the configured reverse proxies (``TFE_TRUSTED_PROXIES``); never a header from anyone else.

STUB written by the lead: the throttle helper implements trusted proxies; the signature stays.
"""

from __future__ import annotations

from fastapi import Request

__all__ = ["client_address"]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"
