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
