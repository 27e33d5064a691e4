"""The planner's statistics kept fresh on SQLite (``tfe.core.db.refresh_statistics``)."""

from __future__ import annotations

from sqlalchemy import insert, text

from tfe.core.db import make_engine, make_session_factory, migrate, refresh_statistics
from tfe.core.models import Organisation
from tfe.core.settings import Settings


def test_stale_or_missing_statistics_are_refreshed_on_sqlite_only(db_settings: Settings) -> None:
    db_settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_settings)
    migrate(engine)
    factory = make_session_factory(engine)
    sqlite = engine.dialect.name == "sqlite"

    def add(n: int, start: int) -> None:
        with factory.begin() as s:
            s.execute(
                insert(Organisation),
                [{"slug": f"o{i}", "name": f"O {i}", "kind": "cci"} for i in range(start, start + n)],
            )

    with factory.begin() as s:
        assert refresh_statistics(s, ("organisations",)) == []  # empty: nothing to learn
    add(40, 0)
    with factory.begin() as s:
        assert refresh_statistics(s, ("organisations",)) == (["organisations"] if sqlite else [])
    if sqlite:
        with factory() as s:
            stat = s.scalar(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'organisations' LIMIT 1"))
            assert str(stat).split()[0] == "40"
    add(5, 40)  # an eighth more: still fresh
    with factory.begin() as s:
        assert refresh_statistics(s, ("organisations",)) == []
    add(20, 45)  # now a half more than analysed
    with factory.begin() as s:
        assert refresh_statistics(s, ("organisations",)) == (["organisations"] if sqlite else [])
    engine.dispose()
