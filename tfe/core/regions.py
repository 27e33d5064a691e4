"""French regions (INSEE codes, ``regions.json``): the region an organisation belongs to; partners abroad
carry their country's ISO 3166-1 alpha-2 code instead (``Organisation.country``)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from tfe.core.errors import ValidationError

__all__ = ["check_country", "check_region", "region_name", "regions"]

_FILE = Path(__file__).with_name("regions.json")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@cache
def regions() -> dict[str, str]:
    """INSEE region code → French name, the 13 metropolitan and 5 overseas regions."""
    data = json.loads(_FILE.read_text(encoding="utf-8"))
    return {r["code"]: r["name"] for r in data["regions"]}


def region_name(code: str) -> str:
    return regions().get(code, code)


def check_region(code: str) -> str:
    """The code if it is a region's INSEE code, else ``ValidationError`` (French message)."""
    clean = code.strip()
    if clean not in regions():
        raise ValidationError(
            f"région inconnue {code!r} : attendu un code INSEE ({', '.join(sorted(regions()))})"
        )
    return clean


def check_country(code: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased, else ``ValidationError``."""
    clean = code.strip().upper()
    if not _COUNTRY.match(clean):
        raise ValidationError(f"pays invalide {code!r} : attendu un code ISO à deux lettres (JP, DE…)")
    return clean
