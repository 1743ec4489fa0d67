"""outcomes: households, residents, milestones, follow-ups, campaigns, ledger

Revision ID: 0004_outcomes
Revises: 0003_visits
Create Date: 2026-11-29 14:12:09.084545

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_outcomes'
down_revision = '0003_visits'
branch_labels = None
depends_on = None


DEFAULT_MILESTONES = [{'key': 'eid_installed',
  'names': {'vi': 'Đã cài ứng dụng VNeID',
            'en': 'E-ID app installed',
            'bn': 'ই-আইডি অ্যাপ ইনস্টল করা হয়েছে'},
  'skills': ['eid'],
  'modules': ['vneid-basics/get-started'],
  'position': 0,
  'active': True},
 {'key': 'eid_activated',
  'names': {'vi': 'Đã kích hoạt đầy đủ tài khoản định danh điện tử',
            'en': 'E-ID account fully activated',
            'bn': 'ই-আইডি অ্যাকাউন্ট সম্পূর্ণ সক্রিয় করা হয়েছে'},
  'skills': ['eid'],
  'modules': ['vneid-basics/use-safely'],
  'position': 1,
  'active': True},
 {'key': 'first_public_service',
  'names': {'vi': 'Đã nộp hồ sơ dịch vụ công trực tuyến đầu tiên',
            'en': 'First online public-service application filed',
            'bn': 'প্রথম অনলাইন সরকারি সেবার আবেদন জমা দেওয়া হয়েছে'},
  'skills': ['public_services'],
  'modules': ['online-public-services/submit-and-track'],
  'position': 2,
  'active': True},
 {'key': 'cashless_setup',
  'names': {'vi': 'Đã thiết lập thanh toán không dùng tiền mặt',
            'en': 'Cashless payment set up',
            'bn': 'নগদবিহীন লেনদেন চালু করা হয়েছে'},
  'skills': ['cashless'],
  'modules': ['cashless-and-scams/cashless-basics'],
  'position': 3,
  'active': True},
 {'key': 'online_shop',
  'names': {'vi': 'Đã mở cửa hàng trực tuyến',
            'en': 'Online shop opened',
            'bn': 'অনলাইন দোকান খোলা হয়েছে'},
  'skills': ['selling_online'],
  'modules': [],
  'position': 4,
  'active': True},
 {'key': 'scam_briefing',
  'names': {'vi': 'Đã được phổ biến cách phòng tránh lừa đảo',
            'en': 'Scam-safety briefing done',
            'bn': 'প্রতারণা থেকে সুরক্ষার বিষয়ে জানানো হয়েছে'},
  'skills': ['safety'],
  'modules': ['cashless-and-scams/online-scams'],
  'position': 5,
  'active': True}]


def upgrade():
    milestones = op.create_table('milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('modules', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestones')),
    sa.UniqueConstraint('key', name=op.f('uq_milestones_key'))
    )
    # The milestones provinces report on (kept in step with app/outcomes/milestones.py).
    op.bulk_insert(milestones, DEFAULT_MILESTONES)
    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_households_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('unit_id', 'code', name=op.f('uq_households_unit_id'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_unit_id'), ['unit_id'], unique=False)

    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('village_codes', sa.JSON(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_campaigns_ends_after_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_campaigns_created_by_id_users')),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id'], name=op.f('fk_campaigns_milestone_id_milestones')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_campaigns_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_unit_id'), ['unit_id'], unique=False)

    op.create_table('closed_months',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_closed_months_closed_by_id_users')),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_closed_months'))
    )
    op.create_table('ledger_months',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('hours_minutes', sa.Integer(), nullable=False),
    sa.Column('residents_helped', sa.Integer(), nullable=False),
    sa.Column('milestones_confirmed', sa.Integer(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('hours_minutes >= 0', name=op.f('ck_ledger_months_minutes_not_negative')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_ledger_months_closed_by_id_users')),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_ledger_months_member_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_months')),
    sa.UniqueConstraint('member_id', 'month', name=op.f('uq_ledger_months_member_id'))
    )
    with op.batch_alter_table('ledger_months', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_months_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_months_month'), ['month'], unique=False)

    op.create_table('residents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consent_recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('birth_year IS NULL OR (birth_year >= 1900 AND birth_year <= 2100)', name=op.f('ck_residents_birth_year_range')),
    sa.ForeignKeyConstraint(['consent_recorded_by_id'], ['users.id'], name=op.f('fk_residents_consent_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_residents_household_id_households')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_residents_unit_id_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_residents_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_residents')),
    sa.UniqueConstraint('unit_id', 'code', name=op.f('uq_residents_unit_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_residents_user_id'))
    )
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_residents_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_residents_unit_id'), ['unit_id'], unique=False)

    op.create_table('resident_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('reached_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id'], name=op.f('fk_resident_milestones_milestone_id_milestones')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_resident_milestones_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_milestones')),
    sa.UniqueConstraint('resident_id', 'milestone_id', name=op.f('uq_resident_milestones_resident_id'))
    )
    with op.batch_alter_table('resident_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_milestones_milestone_id'), ['milestone_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_milestones_resident_id'), ['resident_id'], unique=False)

    op.create_table('walk_list_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'reached', 'not_home', 'declined', name='walk_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_walk_list_entries_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_walk_list_entries_household_id_households')),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_walk_list_entries_member_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_walk_list_entries_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walk_list_entries')),
    sa.UniqueConstraint('campaign_id', 'household_id', name=op.f('uq_walk_list_entries_campaign_id'))
    )
    with op.batch_alter_table('walk_list_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_walk_list_entries_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_walk_list_entries_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_walk_list_entries_member_id'), ['member_id'], unique=False)

    op.create_table('confidence_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Enum('first_contact', 'close', name='assessment_stage', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_confidence_assessments_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_confidence_assessments_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_confidence_assessments_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_confidence_assessments'))
    )
    with op.batch_alter_table('confidence_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_confidence_assessments_resident_id'), ['resident_id'], unique=False)

    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'done', 'cancelled', name='follow_up_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['users.id'], name=op.f('fk_follow_ups_assigned_to_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_follow_ups_created_by_id_users')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_follow_ups_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_follow_ups_unit_id_units')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_follow_ups_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_follow_ups_visit_id'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index('ix_follow_ups_status_due', ['status', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_unit_id'), ['unit_id'], unique=False)

    op.create_table('milestone_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('confirmation', sa.Enum('seen_on_phone', 'resident_word', 'document', name='milestone_confirmation', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('helped_by_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('class_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['training_classes.id'], name=op.f('fk_milestone_evidence_class_id_training_classes')),
    sa.ForeignKeyConstraint(['helped_by_id'], ['users.id'], name=op.f('fk_milestone_evidence_helped_by_id_users')),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id'], name=op.f('fk_milestone_evidence_milestone_id_milestones')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_milestone_evidence_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_milestone_evidence_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['group_sessions.id'], name=op.f('fk_milestone_evidence_session_id_group_sessions')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_milestone_evidence_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone_evidence'))
    )
    with op.batch_alter_table('milestone_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestone_evidence_helped_by_id'), ['helped_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestone_evidence_milestone_id'), ['milestone_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestone_evidence_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestone_evidence_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestone_evidence_visit_id'), ['visit_id'], unique=False)

    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resident_record_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_help_requests_resident_record_id'), ['resident_record_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_help_requests_resident_record_id_residents'), 'residents', ['resident_record_id'], ['id'])

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resident_record_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_visits_resident_record_id'), ['resident_record_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_visits_resident_record_id_residents'), 'residents', ['resident_record_id'], ['id'])



def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_visits_resident_record_id_residents'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_visits_resident_record_id'))
        batch_op.drop_column('resident_record_id')

    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_help_requests_resident_record_id_residents'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_help_requests_resident_record_id'))
        batch_op.drop_column('resident_record_id')

    with op.batch_alter_table('milestone_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestone_evidence_visit_id'))
        batch_op.drop_index(batch_op.f('ix_milestone_evidence_session_id'))
        batch_op.drop_index(batch_op.f('ix_milestone_evidence_resident_id'))
        batch_op.drop_index(batch_op.f('ix_milestone_evidence_milestone_id'))
        batch_op.drop_index(batch_op.f('ix_milestone_evidence_helped_by_id'))

    op.drop_table('milestone_evidence')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_ups_unit_id'))
        batch_op.drop_index('ix_follow_ups_status_due')
        batch_op.drop_index(batch_op.f('ix_follow_ups_resident_id'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_assigned_to_id'))

    op.drop_table('follow_ups')
    with op.batch_alter_table('confidence_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_confidence_assessments_resident_id'))

    op.drop_table('confidence_assessments')
    with op.batch_alter_table('walk_list_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_walk_list_entries_member_id'))
        batch_op.drop_index(batch_op.f('ix_walk_list_entries_household_id'))
        batch_op.drop_index(batch_op.f('ix_walk_list_entries_campaign_id'))

    op.drop_table('walk_list_entries')
    with op.batch_alter_table('resident_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_milestones_resident_id'))
        batch_op.drop_index(batch_op.f('ix_resident_milestones_milestone_id'))

    op.drop_table('resident_milestones')
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_residents_unit_id'))
        batch_op.drop_index(batch_op.f('ix_residents_household_id'))

    op.drop_table('residents')
    with op.batch_alter_table('ledger_months', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_months_month'))
        batch_op.drop_index(batch_op.f('ix_ledger_months_member_id'))

    op.drop_table('ledger_months')
    op.drop_table('closed_months')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_unit_id'))

    op.drop_table('campaigns')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_unit_id'))

    op.drop_table('households')
    op.drop_table('milestones')
