# ruff: noqa: E501  (the triggers' SQL, one statement a line)
"""watch roll-up: a dirty day says whether its stories changed (``watch_rollup_dirty.stories``)

Revision ID: 0016
Revises: 0015

The items' triggers set ``stories`` when an item fetched that day is added, deleted, or changes its day,
story, organisation or visibility (what the stories of a week, month, quarter and year read); a curator's
decision, a reclassification or a review only marks the day, so the job rolls the day again, not its
year's stories (``tfe.app.rollups_watch``). The classifications' and the quality's triggers are unchanged
(their inserts leave ``stories`` false, their conflicts leave it as it is). The days dirty before this
revision count as stories changed (rolled as before).
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# the items' triggers as ``veille.rollup_models`` writes them today (a migration keeps its own copy)
SQLITE_ITEM_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_item_insert AFTER INSERT ON items BEGIN INSERT INTO watch_rollup_dirty (day, changes, stories) SELECT bucket, 1, 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN (date(NEW.fetched_at)) ON CONFLICT (day) DO UPDATE SET changes = changes + 1, stories = max(stories, excluded.stories); INSERT INTO watch_rollup_dirty (day, changes) SELECT bucket, 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN (date(NEW.decided_at)) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_item_delete AFTER DELETE ON items BEGIN INSERT INTO watch_rollup_dirty (day, changes, stories) SELECT bucket, 1, 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN (date(OLD.fetched_at)) ON CONFLICT (day) DO UPDATE SET changes = changes + 1, stories = max(stories, excluded.stories); INSERT INTO watch_rollup_dirty (day, changes) SELECT bucket, 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN (date(OLD.decided_at)) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_item_update AFTER UPDATE OF fetched_at, org_id, visibility, source_id, story_id, curator_status, decided_at ON items BEGIN INSERT INTO watch_rollup_dirty (day, changes, stories) SELECT bucket, 1, (OLD.fetched_at IS NOT NEW.fetched_at OR OLD.org_id IS NOT NEW.org_id OR OLD.visibility IS NOT NEW.visibility OR OLD.story_id IS NOT NEW.story_id) FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN (date(OLD.fetched_at), date(NEW.fetched_at)) ON CONFLICT (day) DO UPDATE SET changes = changes + 1, stories = max(stories, excluded.stories); INSERT INTO watch_rollup_dirty (day, changes) SELECT bucket, 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN (date(OLD.decided_at), date(NEW.decided_at)) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
]
POSTGRESQL_ITEM_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION watch_rollup_mark(d date, moved boolean) RETURNS void AS $$\nBEGIN\n  IF d IS NOT NULL AND EXISTS (SELECT 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket = d) THEN\n    INSERT INTO watch_rollup_dirty (day, changes, stories) VALUES (d, 1, moved)\n    ON CONFLICT (day) DO UPDATE\n    SET changes = watch_rollup_dirty.changes + 1, stories = watch_rollup_dirty.stories OR EXCLUDED.stories;\n  END IF;\nEND $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION watch_rollup_item() RETURNS trigger AS $$\nDECLARE\n  moved boolean := TG_OP <> 'UPDATE';\nBEGIN\n  IF TG_OP = 'UPDATE' THEN\n    moved := OLD.fetched_at IS DISTINCT FROM NEW.fetched_at OR OLD.org_id IS DISTINCT FROM NEW.org_id OR OLD.visibility IS DISTINCT FROM NEW.visibility OR OLD.story_id IS DISTINCT FROM NEW.story_id;\n  END IF;\n  IF TG_OP <> 'INSERT' THEN\n    PERFORM watch_rollup_mark((((OLD.fetched_at) AT TIME ZONE 'UTC')::date), moved);\n    PERFORM watch_rollup_mark((((OLD.decided_at) AT TIME ZONE 'UTC')::date));\n  END IF;\n  IF TG_OP <> 'DELETE' THEN\n    PERFORM watch_rollup_mark((((NEW.fetched_at) AT TIME ZONE 'UTC')::date), moved);\n    PERFORM watch_rollup_mark((((NEW.decided_at) AT TIME ZONE 'UTC')::date));\n  END IF;\n  RETURN NULL;\nEND $$ LANGUAGE plpgsql",
]
SQLITE_ITEM_NAMES = ("watch_rollup_item_insert", "watch_rollup_item_delete", "watch_rollup_item_update")


def upgrade() -> None:
    # a plain ADD COLUMN (a batch copy of the table on SQLite would trip over the triggers naming it)
    op.add_column(
        "watch_rollup_dirty", sa.Column("stories", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.execute("UPDATE watch_rollup_dirty SET stories = true")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_ITEM_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in SQLITE_ITEM_TRIGGERS:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRESQL_ITEM_TRIGGERS:  # the trigger itself calls the function replaced
            op.execute(statement)


def downgrade() -> None:
    import importlib

    previous = importlib.import_module("tfe.core.migrations.versions.0012_watch_rollups")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_ITEM_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in previous.SQLITE_TRIGGERS[:3]:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(previous.POSTGRESQL_TRIGGERS[1])  # the items' function of 0012
        op.execute("DROP FUNCTION IF EXISTS watch_rollup_mark(date, boolean)")
    op.drop_column("watch_rollup_dirty", "stories")
