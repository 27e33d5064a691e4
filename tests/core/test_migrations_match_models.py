"""The hand-kept migrations produce exactly the schema the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import ged.models
import ingest.models
import search.models
import taxonomy.models
import tfe.core.crypto.models
import tfe.core.models
import tfe.core.security.models
import veille.alerts.models
import veille.models
import veille.rollup_models
from tfe.core.db import Base, make_engine, migrate
from tfe.core.settings import Settings

MODEL_MODULES = (
    tfe.core.models,
    tfe.core.crypto.models,
    tfe.core.security.models,
    taxonomy.models,
    search.models,
    ingest.models,
    ged.models,
    veille.models,
    veille.rollup_models,
    veille.alerts.models,
)


def test_no_difference_between_migrations_and_models(db_settings: Settings) -> None:
    # every mapped class lives in a listed module, so a new models module cannot be forgotten here
    mapped = {mapper.class_.__module__ for mapper in Base.registry.mappers}
    assert mapped == {m.__name__ for m in MODEL_MODULES}
    db_settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_settings)
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_the_latest_revisions_downgrade_and_upgrade_again(db_settings: Settings) -> None:
    """0016 (the dirty days' ``stories`` and the items' triggers) and 0017 (the covering indexes) undo
    cleanly: back at 0015 the dirty days have no ``stories`` and the items' triggers of 0012 mark a day
    again; upgraded again, the schema is the models' once more."""
    from alembic import command
    from sqlalchemy import inspect, text

    from tfe.core.db import _alembic_config

    db_settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_settings)
    migrate(engine)
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0015")
    columns = {c["name"] for c in inspect(engine).get_columns("watch_rollup_dirty")}
    assert "stories" not in columns and {"day", "changes"} <= columns
    indexes = {i["name"] for i in inspect(engine).get_indexes("items")}
    assert "ix_items_curator_status" in indexes and "ix_items_status_fetched" not in indexes
    with engine.begin() as conn:  # the 0012 triggers: an item of a rolled day marks it
        conn.execute(
            text(
                "INSERT INTO watch_rollup_marks (grain, bucket, rows, rolled_at)"
                " VALUES ('day', '2026-03-02', 0, '2026-03-03 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO items (id, guid, title, summary, text, content_origin, fetched_at, content_hash,"
                " visibility, curator_status, meta) VALUES ('i1', 'g1', '', '', '', 'summary',"
                " '2026-03-02 10:00:00', 'h', 'network', 'new', '{}')"
            )
        )
        assert conn.execute(text("SELECT changes FROM watch_rollup_dirty")).scalar() == 1
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        # the days dirty before 0016 count as stories changed
        assert conn.execute(text("SELECT stories FROM watch_rollup_dirty")).scalar() in (True, 1)
    engine.dispose()
    assert diff == []
