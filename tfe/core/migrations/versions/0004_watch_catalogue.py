"""watch catalogue

Revision ID: 0004
Revises: 0003

The source catalogue (kinds feed, page, watch; hints, bounds, health, polling state), each poll's record
(``source_polls``), stories, and curators' decisions on items; items gain their story, the clusterer's
features, what their text holds and who decided on them. Existing rows get the defaults.
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stories',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=1000), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('source_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stories'))
    )
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stories_last_seen_at'), ['last_seen_at'], unique=False)

    op.create_table('source_polls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('new_items', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_polls_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_polls'))
    )
    with op.batch_alter_table('source_polls', schema=None) as batch_op:
        batch_op.create_index('ix_source_polls_source_started', ['source_id', 'started_at'], unique=False)

    op.create_table('item_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_decisions_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_item_decisions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_decisions'))
    )
    with op.batch_alter_table('item_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_decisions_item_id'), ['item_id'], unique=False)

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_origin', sa.String(length=16), nullable=False, server_default='summary'))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decided_by_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('story_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('story_vector', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('story_signature', sa.LargeBinary(), nullable=True))
        batch_op.create_index(batch_op.f('ix_items_curator_status'), ['curator_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_fetched_at'), ['fetched_at'], unique=False)
        batch_op.create_index('ix_items_source_guid', ['source_id', 'guid'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_story_id'), ['story_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_items_decided_by_user_id_users'), 'users', ['decided_by_user_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_items_story_id_stories'), 'stories', ['story_id'], ['id'])

    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('sector_hints', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('country_hints', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('tags', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('config', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('full_text', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('paused', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('auto_accept_threshold', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('min_interval_s', sa.Integer(), nullable=False, server_default='900'))
        batch_op.add_column(sa.Column('max_interval_s', sa.Integer(), nullable=False, server_default='86400'))
        batch_op.add_column(sa.Column('next_poll_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_new_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_status', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()))
        batch_op.create_index(batch_op.f('ix_sources_next_poll_at'), ['next_poll_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sources_next_poll_at'))
        batch_op.drop_column('updated_at')
        batch_op.drop_column('last_error')
        batch_op.drop_column('last_status')
        batch_op.drop_column('last_new_at')
        batch_op.drop_column('last_success_at')
        batch_op.drop_column('next_poll_at')
        batch_op.drop_column('max_interval_s')
        batch_op.drop_column('min_interval_s')
        batch_op.drop_column('auto_accept_threshold')
        batch_op.drop_column('paused')
        batch_op.drop_column('full_text')
        batch_op.drop_column('config')
        batch_op.drop_column('tags')
        batch_op.drop_column('country_hints')
        batch_op.drop_column('sector_hints')
        batch_op.drop_column('language')

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_items_story_id_stories'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_items_decided_by_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_items_story_id'))
        batch_op.drop_index('ix_items_source_guid')
        batch_op.drop_index(batch_op.f('ix_items_fetched_at'))
        batch_op.drop_index(batch_op.f('ix_items_curator_status'))
        batch_op.drop_column('story_signature')
        batch_op.drop_column('story_vector')
        batch_op.drop_column('story_id')
        batch_op.drop_column('decided_by_user_id')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('content_origin')

    with op.batch_alter_table('item_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_decisions_item_id'))

    op.drop_table('item_decisions')
    with op.batch_alter_table('source_polls', schema=None) as batch_op:
        batch_op.drop_index('ix_source_polls_source_started')

    op.drop_table('source_polls')
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stories_last_seen_at'))

    op.drop_table('stories')
