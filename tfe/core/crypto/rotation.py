"""KEK rotation while the service keeps serving reads and writes.

1. the provider makes a new current KEK (the old ones stay: rows not yet rewrapped name them);
2. the column key file is rewrapped under it;
3. every data-key row under another KEK is rewrapped, in batches, each batch its own transaction; a row
   is updated only if it still names the KEK it was read with (a concurrent change wins);
4. after a grace period (a process that read the keyring just before step 1 may still be wrapping a new
   data key under the old KEK), a second sweep catches such rows;
5. only then are the old KEKs retired, and only if no row failed.

Data keys themselves never change, so nothing sealed is re-encrypted and caches stay valid.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from tfe.core.crypto.models import DataKey
from tfe.core.db import utcnow
from tfe.core.errors import TfeError

if TYPE_CHECKING:
    from tfe.core.crypto.vault import Vault

__all__ = ["Progress", "RotationReport", "rotate"]

Progress = Callable[[int, int], None]  # (rows rewrapped so far, rows to rewrap)
BATCH = 200


@dataclass
class RotationReport:
    new_kek_id: str
    rewrapped: int = 0
    failed: int = 0
    retired: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "new_kek_id": self.new_kek_id,
            "rewrapped": self.rewrapped,
            "failed": self.failed,
            "retired": self.retired,
            "seconds": round(self.seconds, 3),
        }


def rotate(vault: Vault, *, progress: Progress | None = None, grace_s: float = 2.0) -> RotationReport:
    started = time.monotonic()
    provider = vault.check()
    old = set(provider.kek_ids())
    new = provider.rotate()
    report = RotationReport(new_kek_id=new)
    vault.rewrap_column_key()
    total = _remaining(vault, new)
    if progress is not None:
        progress(0, total)
    _sweep(vault, new, report, total, progress)
    if grace_s > 0:
        time.sleep(grace_s)
    _sweep(vault, new, report, total, progress)
    if report.failed == 0:
        for kek_id in sorted(old - {new}):
            provider.retire(kek_id)
            report.retired.append(kek_id)
    report.seconds = time.monotonic() - started
    return report


def _remaining(vault: Vault, new: str) -> int:
    with vault.sessions() as session:
        return int(session.scalar(select(func.count()).where(DataKey.kek_id != new)) or 0)


def _sweep(vault: Vault, new: str, report: RotationReport, total: int, progress: Progress | None) -> None:
    provider = vault.check()
    after = ""
    while True:
        with vault.sessions() as session, session.begin():
            rows = session.execute(
                select(DataKey.id, DataKey.kek_id, DataKey.wrapped)
                .where(DataKey.kek_id != new, DataKey.id > after)
                .order_by(DataKey.id)
                .limit(BATCH)
            ).all()
            if not rows:
                return
            now = utcnow()
            for key_id, kek_id, wrapped in rows:
                try:
                    dek = provider.unwrap(kek_id, wrapped)
                except TfeError:
                    report.failed += 1
                    continue
                new_id, rewrapped = provider.wrap(dek)
                done = session.execute(
                    update(DataKey)
                    .where(DataKey.id == key_id, DataKey.kek_id == kek_id)
                    .values(kek_id=new_id, wrapped=rewrapped, rewrapped_at=now)
                )
                report.rewrapped += int(done.rowcount or 0)  # type: ignore[attr-defined]
            after = rows[-1][0]
        if progress is not None:
            progress(report.rewrapped, max(total, report.rewrapped))
