"""privacy: consent per purpose for every person (resident record or account)

The account-only `consents` table is carried over into `person_consents` and dropped:
assisted_account becomes the "account" purpose, contact_by_phone "messages" (both consents,
recorded with the person present). A resident whose record carries a consent date gets that
date as the consent to help visits. Carried-over rows have no notice version.

Revision ID: 0007_consent
Revises: 0006_wait_totals
Create Date: 2026-12-06 21:28:18.592297

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_consent'
down_revision = '0006_wait_totals'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('person_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.Enum('account', 'learning', 'help_visits', 'messages', 'progress_sharing', 'outcomes', 'security', 'team_work', name='person_consent_purpose', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('basis', sa.Enum('consent', 'state_task', 'legal_obligation', 'contract', 'vital_interest', name='person_consent_basis', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('channel', sa.Enum('online', 'assisted', 'paper', name='person_consent_channel', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('notice_version', sa.String(length=20), nullable=True),
    sa.Column('evidence', sa.String(length=200), nullable=True),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("basis <> 'consent' OR channel IS NOT NULL", name=op.f('ck_person_consents_consent_has_channel')),
    sa.CheckConstraint('(user_id IS NULL) <> (resident_id IS NULL)', name=op.f('ck_person_consents_one_person')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_person_consents_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_person_consents_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_person_consents_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_person_consents_withdrawn_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_consents'))
    )
    with op.batch_alter_table('person_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_consents_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_consents_user_id'), ['user_id'], unique=False)
        # One active decision per person and purpose.
        batch_op.create_index('uq_person_consents_active_resident', ['resident_id', 'purpose'], unique=True, sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))
        batch_op.create_index('uq_person_consents_active_user', ['user_id', 'purpose'], unique=True, sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))

    # Carry the account consents over (the earliest active one per account and purpose; the
    # withdrawn ones as they were), then the residents' consent dates.
    for old, new in (('assisted_account', 'account'), ('contact_by_phone', 'messages')):
        op.execute(
            "INSERT INTO person_consents (user_id, purpose, basis, channel, given_at, recorded_by_id, withdrawn_at) "
            f"SELECT user_id, '{new}', 'consent', 'assisted', given_at, recorded_by_id, withdrawn_at FROM consents c "
            f"WHERE purpose = '{old}' AND (withdrawn_at IS NOT NULL OR id = (SELECT min(id) FROM consents o "
            f"WHERE o.user_id = c.user_id AND o.purpose = '{old}' AND o.withdrawn_at IS NULL))"
        )
    op.execute(
        "INSERT INTO person_consents (resident_id, purpose, basis, channel, given_at, recorded_by_id) "
        "SELECT id, 'help_visits', 'consent', 'assisted', consent_at, consent_recorded_by_id FROM residents "
        "WHERE consent_at IS NOT NULL"
    )

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_user_id'))
    op.drop_table('consents')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('purpose')

    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('assisted_account', 'contact_by_phone', name='consent_purpose', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_consents_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consents_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_user_id'), ['user_id'], unique=False)
    # What the old table can hold: the accounts' consents to the account and to messages.
    for old, new in (('assisted_account', 'account'), ('contact_by_phone', 'messages')):
        op.execute(
            "INSERT INTO consents (user_id, purpose, given_at, recorded_by_id, withdrawn_at) "
            f"SELECT user_id, '{old}', given_at, recorded_by_id, withdrawn_at FROM person_consents "
            f"WHERE user_id IS NOT NULL AND purpose = '{new}' AND basis = 'consent'"
        )

    with op.batch_alter_table('person_consents', schema=None) as batch_op:
        batch_op.drop_index('uq_person_consents_active_user', sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))
        batch_op.drop_index('uq_person_consents_active_resident', sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_person_consents_user_id'))
        batch_op.drop_index(batch_op.f('ix_person_consents_resident_id'))
    op.drop_table('person_consents')
