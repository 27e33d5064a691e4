"""classifications indexed by (target_kind, target_id, concept_id, method, score)

Revision ID: 0015
Revises: 0014

The content indicators count the documents alive at a date by sector and by country: a join of the
documents' classifications to the documents. With this covering index the join reads the documents'
classifications alone (not every item's too), in target order, without touching the table.
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_classifications_kind_target",
            ["target_kind", "target_id", "concept_id", "method", "score"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.drop_index("ix_classifications_kind_target")
