"""taxonomy version stamp

Revision ID: 0002
Revises: 0001

One row (id 1) holding the taxonomy's version, bumped by every write of schemes or concepts, so that
running processes rebuild their in-memory referential (``taxonomy.live.DatabaseReferential``). The row
itself is created by the first write (``tfe init`` seeding the taxonomy, an import, a curator edit).
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('taxonomy_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxonomy_state'))
    )


def downgrade() -> None:
    op.drop_table('taxonomy_state')
