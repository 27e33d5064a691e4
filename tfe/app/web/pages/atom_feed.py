"""``GET /alertes/atom/{token}``: a subscription's private Atom feed (no sign-in: the token is the secret).

The token is looked up by its SHA-256 (``Subscription.atom_token_hash``); an unknown or revoked token, a
subscription without the Atom channel, or an owner no longer active answers 404. The feed is rendered by
``veille.channels.atom.render_feed`` from the digests already delivered on the ``atom`` channel (their
``AlertMessage`` rows): what was matched under the owner's scope when it was sent. Conditional GET with
an ``ETag``; each read is audited ``subscription.feed_read``; kept out of shared caches and referrers.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy import select

from tfe.app.web.deps import RuntimeDep, SessionDep
from tfe.core.errors import NotFoundError
from tfe.core.models import User
from tfe.core.security import audit
from veille.alerts.models import AlertMessage, Subscription
from veille.channels.atom import MAX_FEED_ENTRIES, feed_token_hash, render_feed

router = APIRouter(tags=["pages"], include_in_schema=False)

FeedToken = Annotated[str, Path(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
_HEADERS = {
    "Cache-Control": "private, max-age=300",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


@router.get("/alertes/atom/{token}")
def atom_feed(request: Request, token: FeedToken, session: SessionDep, runtime: RuntimeDep) -> Response:
    subscription = session.scalar(
        select(Subscription).where(Subscription.atom_token_hash == feed_token_hash(token))
    )
    owner = session.get(User, subscription.user_id) if subscription is not None else None
    if (
        subscription is None
        or owner is None
        or not owner.active
        or "atom" not in (subscription.channels or [])
    ):
        raise NotFoundError("flux Atom inconnu ou révoqué")
    messages = session.scalars(
        select(AlertMessage)
        .where(
            AlertMessage.subscription_id == subscription.id,
            AlertMessage.channel == "atom",
            AlertMessage.status == "sent",
        )
        .order_by(AlertMessage.id.desc())
        .limit(MAX_FEED_ENTRIES)
    ).all()
    body = render_feed(subscription, messages, runtime.settings)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    audit.record(
        session,
        "subscription.feed_read",
        audit.Actor(owner.id, owner.org_id, "web"),
        target_kind="subscription",
        target_id=str(subscription.id),
        detail={"messages": len(messages)},
    )
    headers = {**_HEADERS, "ETag": etag}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)
