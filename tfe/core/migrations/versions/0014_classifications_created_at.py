"""classifications.created_at indexed

Revision ID: 0014
Revises: 0013

The quality indicators read the classifications written in a period, and their roll-up
(``tfe.app.rollups_watch``) those of one day: a range on ``created_at`` answered by an index instead of a
pass over every classification.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_classifications_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("classifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classifications_created_at"))
