"""The planner's statistics kept fresh on SQLite and PostgreSQL (``tfe.core.db.refresh_statistics``)."""

from __future__ import annotations

from sqlalchemy import insert, text

from tfe.core.db import make_engine, make_session_factory, migrate, refresh_statistics
from tfe.core.models import Organisation
from tfe.core.settings import Settings


def test_stale_or_missing_statistics_are_refreshed(db_settings: Settings) -> None:
    db_settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_settings)
    migrate(engine)
    factory = make_session_factory(engine)
    sqlite = engine.dialect.name == "sqlite"

    def flush() -> None:  # PostgreSQL: the counters reach pg_stat_user_tables at the backend's next flush
        if not sqlite:
            with factory.begin() as s:
                s.execute(text("SELECT pg_stat_force_next_flush()"))

    def add(n: int, start: int) -> None:
        with factory.begin() as s:
            s.execute(
                insert(Organisation),
                [{"slug": f"o{i}", "name": f"O {i}", "kind": "cci"} for i in range(start, start + n)],
            )
        flush()

    with factory.begin() as s:
        assert refresh_statistics(s, ("organisations",)) == []  # empty: nothing to learn
    add(40, 0)
    with factory.begin() as s:
        assert refresh_statistics(s, ("organisations",)) == ["organisations"]
    flush()
    with factory() as s:
        if sqlite:
            stat = s.scalar(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'organisations' LIMIT 1"))
            assert str(stat).split()[0] == "40"
        else:
            assert s.scalar(
                text(
                    "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables"
                    " WHERE relname = 'organisations' AND schemaname = current_schema()"
                )
            )
    add(5, 40)  # an eighth more: still fresh
    with factory.begin() as s:
        assert refresh_statistics(s, ("organisations",)) == []
    add(20, 45)  # now a half more than analysed
    with factory.begin() as s:
        assert refresh_statistics(s, ("organisations",)) == ["organisations"]
    engine.dispose()
