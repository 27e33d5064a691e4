"""``GET /api/indicators``: one dashboard's indicators (``tfe.app.indicators``).

``scope``: ``network``, ``region:CODE`` (INSEE code) or ``org:SLUG`` (default: the network for the
national agency's administrators, the caller's organisation for the others); ``period``: ``2026-Q4``,
``2026-11``, ``2026-W48``, ``2026`` or ``2026-11-01..2026-11-30`` (default: the current month). National
administrators see every scope; an organisation's administrator their organisation and their region;
others 403. Malformed scope or period: 400; unknown region or organisation: 404. Each read is audited
(``indicators.read``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from tfe.app.indicators.periods import month_label
from tfe.app.indicators.service import indicators_for
from tfe.app.web.deps import CurrentUser, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.indicators import IndicatorsPublic
from tfe.core.db import utcnow

router = APIRouter(prefix="/api/indicators", tags=["indicators"])


@router.get(
    "",
    summary="Indicators of a dashboard: network, region or organisation (administrators)",
    response_model=IndicatorsPublic,
    responses=error_responses(400, 401, 403, 404),
)
def get_indicators(
    user: CurrentUser,
    session: SessionDep,
    scope: Annotated[str, Query(max_length=80, description="network, region:CODE or org:SLUG")] = "",
    period: Annotated[
        str, Query(max_length=40, description="2026-Q4, 2026-11, 2026-W48, 2026 or 2026-11-01..2026-11-30")
    ] = "",
) -> dict[str, Any]:
    result = indicators_for(
        session, user, scope or None, period or month_label(utcnow().date()), channel="api"
    )
    session.commit()
    return result.as_dict()
