# ruff: noqa: E501  (the triggers' SQL, one statement a line)
"""quality roll-up: the classifications per closed day, target kind and owner, scheme and band

Revision ID: 0013
Revises: 0012

``tfe.app.rollups_watch`` fills it with the watch's days (same marks, same dirty days); the triggers mark
the days of the classifications written, and every classification day of a document, an item or a concept
whose owner, visibility or scheme changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# the triggers as ``veille.rollup_models`` writes them today (a migration keeps its own copy)
SQLITE_QUALITY_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qclass_insert AFTER INSERT ON classifications BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT bucket, 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN (date(NEW.created_at)) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qclass_delete AFTER DELETE ON classifications BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT bucket, 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN (date(OLD.created_at)) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qclass_update AFTER UPDATE OF target_kind, target_id, concept_id, method, score, explanation, created_at ON classifications BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT bucket, 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN (date(OLD.created_at), date(NEW.created_at)) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qitem_insert AFTER INSERT ON items BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, classifications AS c WHERE c.target_kind = 'item' AND c.target_id = NEW.id AND m.grain = 'day' AND m.bucket = date(c.created_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qitem_delete AFTER DELETE ON items BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, classifications AS c WHERE c.target_kind = 'item' AND c.target_id = OLD.id AND m.grain = 'day' AND m.bucket = date(c.created_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qitem_update AFTER UPDATE OF id, org_id, visibility ON items BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, classifications AS c WHERE c.target_kind = 'item' AND c.target_id = OLD.id AND m.grain = 'day' AND m.bucket = date(c.created_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, classifications AS c WHERE c.target_kind = 'item' AND c.target_id = NEW.id AND m.grain = 'day' AND m.bucket = date(c.created_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qdoc_insert AFTER INSERT ON documents BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, classifications AS c WHERE c.target_kind = 'document' AND c.target_id = NEW.id AND m.grain = 'day' AND m.bucket = date(c.created_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qdoc_delete AFTER DELETE ON documents BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, classifications AS c WHERE c.target_kind = 'document' AND c.target_id = OLD.id AND m.grain = 'day' AND m.bucket = date(c.created_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qdoc_update AFTER UPDATE OF id, org_id ON documents BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, classifications AS c WHERE c.target_kind = 'document' AND c.target_id = OLD.id AND m.grain = 'day' AND m.bucket = date(c.created_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, classifications AS c WHERE c.target_kind = 'document' AND c.target_id = NEW.id AND m.grain = 'day' AND m.bucket = date(c.created_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qconcept_delete AFTER DELETE ON concepts BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, classifications AS c WHERE c.concept_id = OLD.id AND m.grain = 'day' AND m.bucket = date(c.created_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qconcept_update AFTER UPDATE OF id, scheme_id ON concepts BEGIN INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, classifications AS c WHERE c.concept_id = OLD.id AND m.grain = 'day' AND m.bucket = date(c.created_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 FROM watch_rollup_marks AS m, classifications AS c WHERE c.concept_id = NEW.id AND m.grain = 'day' AND m.bucket = date(c.created_at) ON CONFLICT (day) DO UPDATE SET changes = changes + 1; END",
]
POSTGRESQL_QUALITY_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION watch_rollup_qclass() RETURNS trigger AS $$\nBEGIN\n  IF TG_OP <> 'INSERT' THEN\n    PERFORM watch_rollup_mark((((OLD.created_at) AT TIME ZONE 'UTC')::date));\n  END IF;\n  IF TG_OP <> 'DELETE' THEN\n    PERFORM watch_rollup_mark((((NEW.created_at) AT TIME ZONE 'UTC')::date));\n  END IF;\n  RETURN NULL;\nEND $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS watch_rollup_qclass ON classifications",
    "CREATE TRIGGER watch_rollup_qclass AFTER INSERT OR DELETE OR UPDATE OF target_kind, target_id, concept_id, method, score, explanation, created_at ON classifications FOR EACH ROW EXECUTE FUNCTION watch_rollup_qclass()",
    "CREATE OR REPLACE FUNCTION watch_rollup_qitem() RETURNS trigger AS $$\nBEGIN\n  IF TG_OP <> 'INSERT' THEN\n    PERFORM watch_rollup_mark(((c.created_at AT TIME ZONE 'UTC')::date)) FROM classifications AS c\n    WHERE c.target_kind = 'item' AND c.target_id = OLD.id;\n  END IF;\n  IF TG_OP <> 'DELETE' THEN\n    PERFORM watch_rollup_mark(((c.created_at AT TIME ZONE 'UTC')::date)) FROM classifications AS c\n    WHERE c.target_kind = 'item' AND c.target_id = NEW.id;\n  END IF;\n  RETURN NULL;\nEND $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS watch_rollup_qitem ON items",
    "CREATE TRIGGER watch_rollup_qitem AFTER INSERT OR DELETE OR UPDATE OF id, org_id, visibility ON items FOR EACH ROW EXECUTE FUNCTION watch_rollup_qitem()",
    "CREATE OR REPLACE FUNCTION watch_rollup_qdoc() RETURNS trigger AS $$\nBEGIN\n  IF TG_OP <> 'INSERT' THEN\n    PERFORM watch_rollup_mark(((c.created_at AT TIME ZONE 'UTC')::date)) FROM classifications AS c\n    WHERE c.target_kind = 'document' AND c.target_id = OLD.id;\n  END IF;\n  IF TG_OP <> 'DELETE' THEN\n    PERFORM watch_rollup_mark(((c.created_at AT TIME ZONE 'UTC')::date)) FROM classifications AS c\n    WHERE c.target_kind = 'document' AND c.target_id = NEW.id;\n  END IF;\n  RETURN NULL;\nEND $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS watch_rollup_qdoc ON documents",
    "CREATE TRIGGER watch_rollup_qdoc AFTER INSERT OR DELETE OR UPDATE OF id, org_id ON documents FOR EACH ROW EXECUTE FUNCTION watch_rollup_qdoc()",
    "CREATE OR REPLACE FUNCTION watch_rollup_qconcept() RETURNS trigger AS $$\nBEGIN\n  IF TG_OP <> 'INSERT' THEN\n    PERFORM watch_rollup_mark(((c.created_at AT TIME ZONE 'UTC')::date)) FROM classifications AS c\n    WHERE c.concept_id = OLD.id;\n  END IF;\n  IF TG_OP <> 'DELETE' THEN\n    PERFORM watch_rollup_mark(((c.created_at AT TIME ZONE 'UTC')::date)) FROM classifications AS c\n    WHERE c.concept_id = NEW.id;\n  END IF;\n  RETURN NULL;\nEND $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS watch_rollup_qconcept ON concepts",
    "CREATE TRIGGER watch_rollup_qconcept AFTER DELETE OR UPDATE OF id, scheme_id ON concepts FOR EACH ROW EXECUTE FUNCTION watch_rollup_qconcept()",
]


def upgrade() -> None:
    op.create_table(
        "quality_rollup_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=True),
        sa.Column("scheme", sa.String(length=64), nullable=False),
        sa.Column("band", sa.String(length=8), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("corrected", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_rollup_rows")),
    )
    with op.batch_alter_table("quality_rollup_rows", schema=None) as batch_op:
        batch_op.create_index("ix_quality_rollup_rows_day", ["day"], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_QUALITY_TRIGGERS, "postgresql": POSTGRESQL_QUALITY_TRIGGERS}.get(
        dialect, []
    ):
        op.execute(statement)
    # the days rolled before this revision have no quality rows: all rolled again by the next run (the
    # buckets too: a bucket is marked only while its days are, so that their triggers reach it)
    op.execute("DELETE FROM watch_rollup_marks")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for name, table in (
            ("qclass", "classifications"),
            ("qitem", "items"),
            ("qdoc", "documents"),
            ("qconcept", "concepts"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS watch_rollup_{name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS watch_rollup_{name}()")
    elif dialect == "sqlite":
        for statement in SQLITE_QUALITY_TRIGGERS:
            name = statement.split()[5]
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("quality_rollup_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_quality_rollup_rows_day")
    op.drop_table("quality_rollup_rows")
