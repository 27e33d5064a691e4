"""The audit chain's daily anchor (``tfe.core.security.anchors``): the hourly housekeeping job calls
``anchor_daily``, which signs the head once a UTC day (a day that already has an anchor, e.g. one signed by
``tfe audit anchor``, gets no second one). A failure is logged; the next hour tries again."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tfe.core.security import anchors

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime

__all__ = ["anchor_daily"]

log = logging.getLogger(__name__)


def anchor_daily(rt: Runtime, day: str | None = None) -> int | None:
    """Sign today's anchor unless there is one; the anchored ``seq``, or ``None`` when none was due."""
    rt.vault.signer()  # loaded before the session writes (its first use creates the signing key)
    with rt.session() as session:
        anchor = anchors.sign_daily(session, rt.vault, day=day)
        if anchor is None:
            return None
        log.info("audit anchor signed day=%s seq=%s", anchor.day, anchor.seq)
        return anchor.seq
