"""the quarterly satisfaction survey: one answer (score 0..10, comment) or refusal per user and quarter

Revision ID: 0010
Revises: 0009

``tfe.app.survey`` writes it; the indicators (``tfe.app.indicators.satisfaction``) read the scores only.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("declined", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_survey_responses_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_survey_responses_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("user_id", "quarter", name=op.f("uq_survey_responses_user_id")),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_responses_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_responses_quarter"), ["quarter"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_responses_quarter"))
        batch_op.drop_index(batch_op.f("ix_survey_responses_org_id"))
    op.drop_table("survey_responses")
