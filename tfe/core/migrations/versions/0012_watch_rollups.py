# ruff: noqa: E501  (the triggers' SQL, one statement a line)
"""watch roll-up: the items per closed day, and the stories per closed week, month, quarter and year

Revision ID: 0012
Revises: 0011

``tfe.app.rollups_watch`` fills them (``tfe indicators rollup`` and the hourly housekeeping job); the
watch indicators read a rolled-up bucket instead of the items, with the same results. The triggers on
``items`` and ``classifications`` mark the rolled-up days a change touches (``watch_rollup_dirty``), read
live until rolled again. ``items.decided_at`` is indexed (the decisions are rolled up by day decided).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# the triggers as ``veille.rollup_models`` writes them today (a migration keeps its own copy)
SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_item_insert AFTER INSERT ON items BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT bucket, 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN (date(NEW.fetched_at), date(NEW.decided_at)) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_item_delete AFTER DELETE ON items BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT bucket, 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN (date(OLD.fetched_at), date(OLD.decided_at)) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_item_update AFTER UPDATE OF fetched_at, org_id, visibility, source_id, story_id, curator_status, decided_at ON items BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT bucket, 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN (date(OLD.fetched_at), date(OLD.decided_at), date(NEW.fetched_at), date(NEW.decided_at)) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_class_insert AFTER INSERT ON classifications WHEN NEW.target_kind = 'item' BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, items AS i WHERE NEW.target_kind = 'item' AND i.id = NEW.target_id AND m.grain = 'day' AND m.bucket = date(i.fetched_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_class_delete AFTER DELETE ON classifications WHEN OLD.target_kind = 'item' BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, items AS i WHERE OLD.target_kind = 'item' AND i.id = OLD.target_id AND m.grain = 'day' AND m.bucket = date(i.fetched_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_class_update AFTER UPDATE OF target_kind, target_id, concept_id, method, score ON classifications WHEN OLD.target_kind = 'item' OR NEW.target_kind = 'item' BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, items AS i WHERE OLD.target_kind = 'item' AND i.id = OLD.target_id AND m.grain = 'day' AND m.bucket = date(i.fetched_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, items AS i WHERE NEW.target_kind = 'item' AND i.id = NEW.target_id AND m.grain = 'day' AND m.bucket = date(i.fetched_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
]
POSTGRESQL_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION watch_rollup_mark(d date) RETURNS void AS $$\nBEGIN\n  IF d IS NOT NULL AND EXISTS (SELECT 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket = d) THEN\n    INSERT INTO watch_rollup_dirty (day, changes) VALUES (d, 1)\n    ON CONFLICT (day) DO UPDATE SET changes = watch_rollup_dirty.changes + 1;\n  END IF;\nEND $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION watch_rollup_item() RETURNS trigger AS $$\nBEGIN\n  IF TG_OP <> 'INSERT' THEN\n    PERFORM watch_rollup_mark((((OLD.fetched_at) AT TIME ZONE 'UTC')::date));\n    PERFORM watch_rollup_mark((((OLD.decided_at) AT TIME ZONE 'UTC')::date));\n  END IF;\n  IF TG_OP <> 'DELETE' THEN\n    PERFORM watch_rollup_mark((((NEW.fetched_at) AT TIME ZONE 'UTC')::date));\n    PERFORM watch_rollup_mark((((NEW.decided_at) AT TIME ZONE 'UTC')::date));\n  END IF;\n  RETURN NULL;\nEND $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION watch_rollup_class() RETURNS trigger AS $$\nBEGIN\n  IF TG_OP <> 'INSERT' AND OLD.target_kind = 'item' THEN\n    PERFORM watch_rollup_mark((((fetched_at) AT TIME ZONE 'UTC')::date)) FROM items WHERE id = OLD.target_id;\n  END IF;\n  IF TG_OP <> 'DELETE' AND NEW.target_kind = 'item' THEN\n    PERFORM watch_rollup_mark((((fetched_at) AT TIME ZONE 'UTC')::date)) FROM items WHERE id = NEW.target_id;\n  END IF;\n  RETURN NULL;\nEND $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS watch_rollup_item ON items",
    "CREATE TRIGGER watch_rollup_item AFTER INSERT OR DELETE OR UPDATE OF fetched_at, org_id, visibility, source_id, story_id, curator_status, decided_at ON items FOR EACH ROW EXECUTE FUNCTION watch_rollup_item()",
    "DROP TRIGGER IF EXISTS watch_rollup_class ON classifications",
    "CREATE TRIGGER watch_rollup_class AFTER INSERT OR DELETE OR UPDATE OF target_kind, target_id, concept_id, method, score ON classifications FOR EACH ROW EXECUTE FUNCTION watch_rollup_class()",
]


def upgrade() -> None:
    op.create_table(
        "watch_rollup_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("key2", sa.String(length=64), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("extra", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_rollup_rows")),
    )
    with op.batch_alter_table("watch_rollup_rows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_watch_rollup_rows_grain_bucket_kind", ["grain", "bucket", "kind"], unique=False
        )
    op.create_table(
        "watch_rollup_marks",
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.Date(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("grain", "bucket", name=op.f("pk_watch_rollup_marks")),
    )
    op.create_table(
        "watch_rollup_dirty",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_watch_rollup_dirty")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_items_decided_at"), ["decided_at"], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS watch_rollup_item ON items")
        op.execute("DROP TRIGGER IF EXISTS watch_rollup_class ON classifications")
        for name in ("watch_rollup_item()", "watch_rollup_class()", "watch_rollup_mark(date)"):
            op.execute(f"DROP FUNCTION IF EXISTS {name}")
    elif dialect == "sqlite":
        for name in (
            "item_insert",
            "item_delete",
            "item_update",
            "class_insert",
            "class_delete",
            "class_update",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS watch_rollup_{name}")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_items_decided_at"))
    op.drop_table("watch_rollup_dirty")
    op.drop_table("watch_rollup_marks")
    op.drop_table("watch_rollup_rows")
