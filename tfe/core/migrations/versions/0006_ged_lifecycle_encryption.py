"""ged lifecycle and encryption at rest

Revision ID: 0006
Revises: 0005

Data keys (wrapped by the operator's key-encryption key); sealed text columns (titles, texts and
metadata that quote content become Text holding ciphertext); documents gain typed fields, a check-out
lock, lifecycle dates and a trash; versions a comment, an author and a MinHash; lifecycle transitions,
near-duplicate notices, erasure receipts and the sealed passage texts of the search index.
"""

from typing import Any

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _to_text(table: str, column: str, old: sa.types.TypeEngine, nullable: bool) -> None:
    kwargs: dict[str, Any] = {}
    if op.get_bind().dialect.name == 'postgresql':
        kwargs['postgresql_using'] = f'{column}::text'
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(column, existing_type=old, type_=sa.Text(), existing_nullable=nullable, **kwargs)


def upgrade() -> None:
    op.create_table('data_keys',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner_kind', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.String(length=64), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=False),
    sa.Column('kek_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rewrapped_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_keys')),
    sa.UniqueConstraint('owner_kind', 'owner_id', name=op.f('uq_data_keys_owner_kind'))
    )
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_keys_kek_id'), ['kek_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_keys_owner_id'), ['owner_id'], unique=False)

    _to_text('documents', 'title', sa.String(length=500), False)
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fields', sa.Text(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('proposed_fields', sa.Text(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('locked_by_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('expiry_reminded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deleted_by_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_documents_locked_by_user_id_users'), 'users', ['locked_by_user_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_documents_deleted_by_user_id_users'), 'users', ['deleted_by_user_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_documents_valid_until'), ['valid_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_review_due_at'), ['review_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_deleted_at'), ['deleted_at'], unique=False)
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.alter_column('fields', server_default=None)
        batch_op.alter_column('proposed_fields', server_default=None)

    _to_text('document_versions', 'meta', sa.JSON(), False)
    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('created_by_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('minhash', sa.LargeBinary(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_document_versions_created_by_user_id_users'), 'users', ['created_by_user_id'], ['id'])

    _to_text('items', 'title', sa.String(length=1000), False)
    _to_text('stories', 'title', sa.String(length=1000), False)
    _to_text('alert_messages', 'payload', sa.JSON(), False)

    op.create_table('document_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=False),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_transitions_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_document_transitions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_transitions'))
    )
    with op.batch_alter_table('document_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_transitions_document_id'), ['document_id'], unique=False)

    op.create_table('document_similarities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('similar_id', sa.String(length=32), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_similarities_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['similar_id'], ['documents.id'], name=op.f('fk_document_similarities_similar_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_similarities'))
    )
    with op.batch_alter_table('document_similarities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_similarities_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_similarities_similar_id'), ['similar_id'], unique=False)

    op.create_table('erasure_receipts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('receipt', sa.JSON(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_erasure_receipts_created_by_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_receipts'))
    )
    with op.batch_alter_table('erasure_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_receipts_target_id'), ['target_id'], unique=False)

    op.create_table('passage_texts',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passage_texts'))
    )
    with op.batch_alter_table('passage_texts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_passage_texts_parent_id'), ['parent_id'], unique=False)


def downgrade() -> None:
    op.drop_table('passage_texts')
    op.drop_table('erasure_receipts')
    op.drop_table('document_similarities')
    op.drop_table('document_transitions')
    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_document_versions_created_by_user_id_users'), type_='foreignkey')
        batch_op.drop_column('minhash')
        batch_op.drop_column('created_by_user_id')
        batch_op.drop_column('comment')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_deleted_at'))
        batch_op.drop_index(batch_op.f('ix_documents_review_due_at'))
        batch_op.drop_index(batch_op.f('ix_documents_valid_until'))
        batch_op.drop_constraint(batch_op.f('fk_documents_deleted_by_user_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_documents_locked_by_user_id_users'), type_='foreignkey')
        for column in ('deleted_by_user_id', 'deleted_at', 'review_due_at', 'expiry_reminded_at',
                       'locked_until', 'locked_by_user_id', 'proposed_fields', 'fields'):
            batch_op.drop_column(column)
    op.drop_table('data_keys')
