"""What the roll-up equivalence tests share: the periods and scopes every cell is compared over, and the
three organisations of their worlds (the national agency, and a chamber and a bank in Nouvelle-Aquitaine)."""

from __future__ import annotations

from tfe.core.models import Organisation

PERIODS = ["2026-Q4", "2026", "2026-11", "2026-W45", "2026-W49", "2026-10-15..2026-11-20", "2026-Q3"]
SCOPES = ["network", "region:75", "org:cci-na"]


def organisations() -> list[Organisation]:
    """New rows each call (one session's objects cannot go into another)."""
    return [
        Organisation(id=1, slug="bf", name="BF", kind="national_agency", region="11"),
        Organisation(id=2, slug="cci-na", name="CCI NA", kind="regional_chamber", region="75"),
        Organisation(id=3, slug="bank-na", name="Banque NA", kind="bank", region="75"),
    ]
