"""request self-service: a resident cancels or asks for another time; the team's contact promise

Revision ID: 0014_request_self
Revises: 0013_recovery
Create Date: 2026-12-07 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_request_self'
down_revision = '0013_recovery'
branch_labels = None
depends_on = None

REQUEST_COLUMNS = (
    'first_contacted_at',
    'contact_due_at',
    'contact_promise_days',
    'time_wish_at',
    'time_wish_on',
    'time_wish',
    'cancel_reason',
)


def upgrade():
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_promise_days', sa.Integer(), server_default='2', nullable=False))
        batch_op.create_check_constraint(op.f('ck_teams_contact_promise_range'), 'contact_promise_days BETWEEN 1 AND 10')
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_phone', sa.String(length=32), nullable=True))
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('time_wish', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('time_wish_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('time_wish_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('contact_promise_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('contact_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_contacted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('help_requests', schema=None) as batch_op:
        for name in REQUEST_COLUMNS:
            batch_op.drop_column(name)
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.drop_column('work_phone')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_teams_contact_promise_range'), type_='check')
        batch_op.drop_column('contact_promise_days')
