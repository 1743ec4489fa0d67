"""privacy: a person's requests with their deadlines, corrections with history, restriction of processing

Revision ID: 0008_requests
Revises: 0007_consent
Create Date: 2026-12-06 21:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_requests'
down_revision = '0007_consent'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('person_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('access', 'correction', 'withdrawal', 'objection', 'erasure', name='person_request_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledge_by', sa.Date(), nullable=False),
    sa.Column('due_by', sa.Date(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('done', 'refused', 'withdrawn', name='person_request_outcome', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_person_requests_acknowledged_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_person_requests_closed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_person_requests_filed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_person_requests_resident_id_residents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_person_requests_unit_id_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_person_requests_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_requests'))
    )
    with op.batch_alter_table('person_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_requests_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_requests_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_requests_user_id'), ['user_id'], unique=False)

    op.create_table('personal_data_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('table_name', sa.String(length=60), nullable=False),
    sa.Column('row_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('corrected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('corrected_by_id', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['corrected_by_id'], ['users.id'], name=op.f('fk_personal_data_corrections_corrected_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['person_requests.id'], name=op.f('fk_personal_data_corrections_request_id_person_requests'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_corrections'))
    )
    with op.batch_alter_table('personal_data_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personal_data_corrections_row_id'), ['row_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restricted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('restricted_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_users_restricted_by_id_users'), 'users', ['restricted_by_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('restricted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('restricted_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_residents_restricted_by_id_users'), 'users', ['restricted_by_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_residents_restricted_by_id_users'), type_='foreignkey')
        batch_op.drop_column('restricted_by_id')
        batch_op.drop_column('restricted_at')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_restricted_by_id_users'), type_='foreignkey')
        batch_op.drop_column('restricted_by_id')
        batch_op.drop_column('restricted_at')

    with op.batch_alter_table('personal_data_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personal_data_corrections_row_id'))

    op.drop_table('personal_data_corrections')
    with op.batch_alter_table('person_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_requests_user_id'))
        batch_op.drop_index(batch_op.f('ix_person_requests_unit_id'))
        batch_op.drop_index(batch_op.f('ix_person_requests_resident_id'))

    op.drop_table('person_requests')
