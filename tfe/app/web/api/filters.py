"""Query parameters the watch's list endpoints share (stories, the curators' queue): sector and country."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

SectorFilter = Annotated[
    str | None, Query(max_length=200, description="NAF concept (id, code or name; narrower ones count)")
]
CountryFilter = Annotated[str | None, Query(max_length=200, description="Country or zone")]
