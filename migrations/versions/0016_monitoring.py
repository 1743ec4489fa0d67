"""monitoring: the request id on outbox messages, scheduled jobs' runs, summary-table checks

Revision ID: 0016_monitoring
Revises: 0015_quiz_review
Create Date: 2026-12-07 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_monitoring'
down_revision = '0015_quiz_review'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))
    op.create_table(
        'job_runs',
        sa.Column('job', sa.String(length=60), nullable=False),
        sa.Column('runs', sa.Integer(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('job', name=op.f('pk_job_runs')),
    )
    op.create_table(
        'summary_checks',
        sa.Column('table_name', sa.String(length=40), nullable=False),
        sa.Column('differing_rows', sa.Integer(), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('table_name', name=op.f('pk_summary_checks')),
    )


def downgrade():
    op.drop_table('summary_checks')
    op.drop_table('job_runs')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('request_id')
