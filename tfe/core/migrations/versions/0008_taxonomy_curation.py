"""taxonomy curation: curated concept data, versioned changes, named releases, reclassification runs

Revision ID: 0008
Revises: 0007

Concepts gain French scope notes, related concepts, mappings to other schemes and matching rules (all
JSON, versioned with the whole row); every curator change is a ``taxonomy_changes`` row with the rows
before and after (diff and revert); ``taxonomy_releases`` are named snapshots; ``reclassify_runs`` record
the preview and the resumable progress of the reclassification a change triggers. Notations widen to 64 characters
(sous-filières: ``energie-environnement.renouvelables``).
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('concepts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope_note_fr', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('related', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('mappings', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('rules', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('notation', existing_type=sa.String(length=32), type_=sa.String(length=64),
                              existing_nullable=False)

    op.create_table('taxonomy_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('concept_id', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.String(length=400), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('moved', sa.JSON(), nullable=False),
    sa.Column('revert_of', sa.Integer(), nullable=True),
    sa.Column('reverted_by', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxonomy_changes'))
    )
    with op.batch_alter_table('taxonomy_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_taxonomy_changes_concept_id'), ['concept_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_taxonomy_changes_created_at'), ['created_at'], unique=False)

    op.create_table('taxonomy_releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxonomy_releases')),
    sa.UniqueConstraint('name', name=op.f('uq_taxonomy_releases_name'))
    )

    op.create_table('reclassify_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('concepts', sa.JSON(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('cursor', sa.String(length=80), nullable=True),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reclassify_runs'))
    )
    with op.batch_alter_table('reclassify_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reclassify_runs_change_id'), ['change_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reclassify_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reclassify_runs_change_id'))
    op.drop_table('reclassify_runs')
    op.drop_table('taxonomy_releases')
    with op.batch_alter_table('taxonomy_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_taxonomy_changes_created_at'))
        batch_op.drop_index(batch_op.f('ix_taxonomy_changes_concept_id'))
    op.drop_table('taxonomy_changes')
    with op.batch_alter_table('concepts', schema=None) as batch_op:
        batch_op.alter_column('notation', existing_type=sa.String(length=64), type_=sa.String(length=32),
                              existing_nullable=False)
        batch_op.drop_column('updated_at')
        batch_op.drop_column('rules')
        batch_op.drop_column('mappings')
        batch_op.drop_column('related')
        batch_op.drop_column('scope_note_fr')
