"""``GET /api/items/{id}``: one watch item (feed entry) in the caller's scope, with its classifications."""

from __future__ import annotations

from fastapi import APIRouter

from tfe.app.web.deps import ScopeDep, SessionDep, TargetId
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.items import ItemPublic
from veille.items import read_item

router = APIRouter(prefix="/api/items", tags=["watch"])

ItemId = TargetId


@router.get(
    "/{item_id}",
    summary="Watch item, its source and classifications",
    responses=error_responses(400, 401, 404),
)
def get_item(item_id: ItemId, session: SessionDep, scope: ScopeDep) -> ItemPublic:
    return ItemPublic.model_validate(read_item(session, item_id, scope, channel="api").as_dict())
