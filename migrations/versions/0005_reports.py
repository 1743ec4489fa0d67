"""reports: summary tables

Revision ID: 0005_reports
Revises: 0004_outcomes
Create Date: 2026-11-29 14:37:33.747073

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_reports'
down_revision = '0004_outcomes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('learner_stats',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('new_learners', sa.Integer(), nullable=False),
    sa.Column('new_completers', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_learner_stats_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'role', 'week', name=op.f('pk_learner_stats'))
    )
    op.create_table('learning_stats',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('enrolled', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('completed_self', sa.Integer(), nullable=False),
    sa.Column('completed_in_person', sa.Integer(), nullable=False),
    sa.Column('completed_assisted', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_learning_stats_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_learning_stats_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'course_id', 'role', 'week', name=op.f('pk_learning_stats'))
    )
    op.create_table('milestone_stats',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('reached', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id'], name=op.f('fk_milestone_stats_milestone_id_milestones')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_milestone_stats_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'milestone_id', 'week', name=op.f('pk_milestone_stats'))
    )
    op.create_table('people_stats',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('accounts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_people_stats_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'role', name=op.f('pk_people_stats'))
    )
    op.create_table('skill_demand_stats',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('skill', sa.String(length=30), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('visits_done', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_skill_demand_stats_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'skill', 'week', name=op.f('pk_skill_demand_stats'))
    )
    op.create_table('visit_stats',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('visits_done', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('minutes_spent', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_visit_stats_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'week', name=op.f('pk_visit_stats'))
    )
    op.create_table('wait_stats',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_wait_stats_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'week', 'bucket', name=op.f('pk_wait_stats'))
    )


def downgrade():
    op.drop_table('wait_stats')
    op.drop_table('visit_stats')
    op.drop_table('skill_demand_stats')
    op.drop_table('people_stats')
    op.drop_table('milestone_stats')
    op.drop_table('learning_stats')
    op.drop_table('learner_stats')
