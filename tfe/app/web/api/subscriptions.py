"""``/api/subscriptions``: the caller's alert subscriptions (CRUD, preview, history, Atom address, GDPR).

Every route acts for the signed-in user on their own subscriptions only (another user's id is 404);
``veille.alerts.subscriptions.SubscriptionService`` validates and audits with the ``api`` channel.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from tfe.app.runtime import Runtime
from tfe.app.web.deps import CurrentUser, RuntimeDep, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.subscriptions import (
    AtomTokenPublic,
    HistoryPublic,
    SubscriptionCreate,
    SubscriptionCreatedPublic,
    SubscriptionExportPublic,
    SubscriptionListPublic,
    SubscriptionPreviewPublic,
    SubscriptionPublic,
    SubscriptionsDeletedPublic,
    SubscriptionUpdate,
)
from veille.alerts.subscriptions import SubscriptionService, SubscriptionSpec

router = APIRouter(prefix="/api/subscriptions", tags=["alerts"])

SubscriptionId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Subscription id")]
Days = Annotated[int, Query(ge=1, le=31, description="How many days back")]


def subscription_service(runtime: Runtime) -> SubscriptionService:
    """The use cases over the runtime's settings and referential in force."""
    return runtime.subscriptions


@router.get("", summary="The caller's alert subscriptions", responses=error_responses(401))
def list_subscriptions(runtime: RuntimeDep, session: SessionDep, user: CurrentUser) -> SubscriptionListPublic:
    views = subscription_service(runtime).list(session, user)
    return SubscriptionListPublic.model_validate(
        {"total": len(views), "subscriptions": [v.as_dict() for v in views]}
    )


@router.post(
    "",
    summary="Create an alert (query and facets, schedule, channels); secrets are in this answer only",
    status_code=201,
    responses=error_responses(400, 401, 409),
)
def create_subscription(
    body: SubscriptionCreate, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> SubscriptionCreatedPublic:
    spec = SubscriptionSpec(**body.model_dump())
    created = subscription_service(runtime).create(session, user, spec, channel="api")
    return SubscriptionCreatedPublic.model_validate(created.as_dict())


@router.get(
    "/export",
    summary="Export the caller's subscriptions and what was sent (GDPR)",
    responses=error_responses(401),
)
def export_subscriptions(
    runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> SubscriptionExportPublic:
    return SubscriptionExportPublic.model_validate(subscription_service(runtime).export(session, user))


@router.delete(
    "",
    summary="Delete every subscription of the caller (GDPR)",
    responses=error_responses(401, 403),
)
def delete_all_subscriptions(
    runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> SubscriptionsDeletedPublic:
    return SubscriptionsDeletedPublic(deleted=subscription_service(runtime).delete_all(session, user))


@router.get("/{subscription_id}", summary="One subscription", responses=error_responses(400, 401, 404))
def get_subscription(
    subscription_id: SubscriptionId, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> SubscriptionPublic:
    return SubscriptionPublic.model_validate(
        subscription_service(runtime).get(session, user, subscription_id).as_dict()
    )


@router.patch(
    "/{subscription_id}",
    summary="Edit, pause or resume a subscription (a channel turned on shows its secret once)",
    responses=error_responses(400, 401, 403, 404),
)
def update_subscription(
    subscription_id: SubscriptionId,
    body: SubscriptionUpdate,
    runtime: RuntimeDep,
    session: SessionDep,
    user: CurrentUser,
) -> SubscriptionCreatedPublic:
    changes = body.model_dump(exclude_unset=True)
    updated = subscription_service(runtime).update(session, user, subscription_id, changes, channel="api")
    return SubscriptionCreatedPublic.model_validate(updated.as_dict())


@router.delete(
    "/{subscription_id}",
    summary="Delete a subscription",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 401, 403, 404),
)
def delete_subscription(
    subscription_id: SubscriptionId, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> Response:
    subscription_service(runtime).delete(session, user, subscription_id, channel="api")
    return Response(status_code=204)


@router.get(
    "/{subscription_id}/preview",
    summary="What the subscription would have sent over the last days, as the caller may see it now",
    responses=error_responses(400, 401, 404),
)
def preview_subscription(
    subscription_id: SubscriptionId,
    runtime: RuntimeDep,
    session: SessionDep,
    user: CurrentUser,
    days: Days = 7,
) -> SubscriptionPreviewPublic:
    result = subscription_service(runtime).preview(session, user, subscription_id, days=days, channel="api")
    return SubscriptionPreviewPublic.model_validate(result)


@router.get(
    "/{subscription_id}/history",
    summary="The digests prepared for this subscription (date, channel, status, subject, error)",
    responses=error_responses(400, 401, 404),
)
def subscription_history(
    subscription_id: SubscriptionId, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> HistoryPublic:
    messages = subscription_service(runtime).history(session, user, subscription_id, channel="api")
    return HistoryPublic.model_validate({"total": len(messages), "messages": messages})


@router.post(
    "/{subscription_id}/atom-token",
    summary="A new private Atom feed address (the old one stops working)",
    responses=error_responses(400, 401, 403, 404),
)
def regenerate_atom_token(
    subscription_id: SubscriptionId, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> AtomTokenPublic:
    url = subscription_service(runtime).regenerate_atom_token(session, user, subscription_id, channel="api")
    return AtomTokenPublic(atom_url=url)
