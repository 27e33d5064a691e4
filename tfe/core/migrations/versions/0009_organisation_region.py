"""organisations carry their French region (INSEE code) or, for partners abroad, their country

Revision ID: 0009
Revises: 0008

Both nullable: the indicators (``tfe.app.indicators``) group organisations by region; an organisation
without one only counts in the network's totals and its own.
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=True))
        batch_op.create_index(batch_op.f('ix_organisations_region'), ['region'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_region'))
        batch_op.drop_column('country')
        batch_op.drop_column('region')
