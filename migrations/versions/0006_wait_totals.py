"""reports: all-time wait histogram

Revision ID: 0006_wait_totals
Revises: 0005_reports
Create Date: 2026-11-29 15:30:14.281795

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_wait_totals'
down_revision = '0005_reports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wait_totals',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_wait_totals_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'bucket', name=op.f('pk_wait_totals'))
    )
    # Fill it from the weekly histogram a database may already hold.
    op.execute(
        "INSERT INTO wait_totals (unit_id, bucket, visits) "
        "SELECT unit_id, bucket, sum(visits) FROM wait_stats GROUP BY unit_id, bucket"
    )


def downgrade():
    op.drop_table('wait_totals')
