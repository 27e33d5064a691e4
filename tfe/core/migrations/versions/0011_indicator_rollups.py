"""indicator roll-ups: each person's activity per closed week and month, and the buckets rolled up

Revision ID: 0011
Revises: 0010

``tfe.app.indicators.rollup`` fills them (``tfe indicators rollup``, and the hourly housekeeping job);
the indicators read a rolled-up bucket instead of the audit trail, with the same results.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_user_buckets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("empty", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_user_buckets")),
    )
    with op.batch_alter_table("indicator_user_buckets", schema=None) as batch_op:
        batch_op.create_index("ix_indicator_user_buckets_grain_bucket", ["grain", "bucket"], unique=False)
        batch_op.create_index(batch_op.f("ix_indicator_user_buckets_user_id"), ["user_id"], unique=False)
    op.create_table(
        "indicator_rollups",
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.Date(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("grain", "bucket", name=op.f("pk_indicator_rollups")),
    )


def downgrade() -> None:
    op.drop_table("indicator_rollups")
    with op.batch_alter_table("indicator_user_buckets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_user_buckets_user_id"))
        batch_op.drop_index("ix_indicator_user_buckets_grain_bucket")
    op.drop_table("indicator_user_buckets")
