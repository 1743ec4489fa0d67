"""channels: messages by Zalo and SMS as well as e-mail and in-app

Revision ID: 0012_channels
Revises: 0011_phones
Create Date: 2026-12-07 00:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_channels'
down_revision = '0011_phones'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('channel', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('template_data', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('provider_ref', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('delivery_status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_messages_provider_ref'), ['provider_ref'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_channels', sa.String(length=60), nullable=True))
    op.create_table(
        'channel_tokens',
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('access_token', sa.Text(), nullable=True),
        sa.Column('refresh_token', sa.Text(), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('channel', name=op.f('pk_channel_tokens')),
    )


def downgrade():
    op.drop_table('channel_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('preferred_channels')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_provider_ref'))
        for name in ('delivered_at', 'delivery_status', 'provider_ref', 'template_data', 'phone', 'channel', 'kind'):
            batch_op.drop_column(name)
