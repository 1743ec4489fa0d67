"""privacy: who read whose record; the member's choice of home addresses in feeds and e-mails

Revision ID: 0009_access
Revises: 0008_requests
Create Date: 2026-12-06 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_access'
down_revision = '0008_requests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('personal_data_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('resident_page', 'person_page', 'list', 'export', 'api', name='read_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('endpoint', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], name=op.f('fk_personal_data_reads_reader_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_personal_data_reads_resident_id_residents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_personal_data_reads_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_reads'))
    )
    with op.batch_alter_table('personal_data_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personal_data_reads_read_at'), ['read_at'], unique=False)
        batch_op.create_index('ix_personal_data_reads_reader_id_read_at', ['reader_id', 'read_at'], unique=False)
        batch_op.create_index('ix_personal_data_reads_resident_id_read_at', ['resident_id', 'read_at'], unique=False)
        batch_op.create_index('ix_personal_data_reads_user_id_read_at', ['user_id', 'read_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_address_in_notices', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('visit_address_in_notices')

    with op.batch_alter_table('personal_data_reads', schema=None) as batch_op:
        batch_op.drop_index('ix_personal_data_reads_user_id_read_at')
        batch_op.drop_index('ix_personal_data_reads_resident_id_read_at')
        batch_op.drop_index('ix_personal_data_reads_reader_id_read_at')
        batch_op.drop_index(batch_op.f('ix_personal_data_reads_read_at'))

    op.drop_table('personal_data_reads')
