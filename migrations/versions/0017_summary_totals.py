"""reports: all-time totals of the weekly summary tables; the promise to call as a summary

Revision ID: 0017_summary_totals
Revises: 0016_monitoring
Create Date: 2026-12-07 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_summary_totals'
down_revision = '0016_monitoring'
branch_labels = None
depends_on = None


def _counts(*names):
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


#: settled() of app.reports.promise in SQL, for one request r: (counts, in time).
_COUNTED = (
    "CASE WHEN r.contact_due_at IS NOT NULL AND (r.first_contacted_at IS NOT NULL "
    "OR (r.status = 'cancelled' AND r.closed_at >= r.contact_due_at)) THEN 1 ELSE 0 END"
)
_IN_TIME = "CASE WHEN r.first_contacted_at < r.contact_due_at THEN 1 ELSE 0 END"
#: The Monday of the local (UTC+7) week a request was filed in, as the recount writes it.
_WEEK = {
    "postgresql": "CAST(date_trunc('week', timezone('Asia/Ho_Chi_Minh', r.created_at)) AS DATE)",
    "sqlite": "date(r.created_at, '+7 hours', 'weekday 0', '-6 days')",
}


def upgrade():
    op.create_table('learning_totals',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    *_counts('enrolled', 'completed', 'completed_self', 'completed_in_person', 'completed_assisted'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_learning_totals_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_learning_totals_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'course_id', 'role', name=op.f('pk_learning_totals'))
    )
    op.create_table('learner_totals',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    *_counts('new_learners', 'new_completers'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_learner_totals_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'role', name=op.f('pk_learner_totals'))
    )
    op.create_table('visit_totals',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    *_counts('requests', 'visits_done', 'resolved', 'rating_sum', 'rating_count', 'minutes_spent'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_visit_totals_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_visit_totals'))
    )
    op.create_table('milestone_totals',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('reached', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id'], name=op.f('fk_milestone_totals_milestone_id_milestones')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_milestone_totals_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'milestone_id', name=op.f('pk_milestone_totals'))
    )
    op.create_table('promise_stats',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    *_counts('counted', 'in_time'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_promise_stats_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', 'week', name=op.f('pk_promise_stats'))
    )
    op.create_table('promise_totals',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    *_counts('counted', 'in_time'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_promise_totals_unit_id_units')),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_promise_totals'))
    )
    waiting = sa.text("first_contacted_at IS NULL AND status <> 'cancelled'")
    op.create_index('ix_help_requests_awaiting_call', 'help_requests', ['contact_due_at'], unique=False,
                    postgresql_where=waiting, sqlite_where=waiting)
    # Fill them from the weekly tables and the requests a database may already hold; each
    # request counts for its own unit and every unit above it (whose path begins its path).
    week = _WEEK[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO promise_stats (unit_id, week, counted, in_time) "
        f"SELECT a.id, {week}, sum({_COUNTED}), sum({_IN_TIME}) "
        "FROM help_requests r JOIN units u ON u.id = r.unit_id "
        "JOIN units a ON substr(u.path, 1, length(a.path)) = a.path "
        f"GROUP BY a.id, {week}"
    )
    op.execute(
        "INSERT INTO promise_totals (unit_id, counted, in_time) "
        "SELECT unit_id, sum(counted), sum(in_time) FROM promise_stats GROUP BY unit_id"
    )
    op.execute(
        "INSERT INTO learning_totals (unit_id, course_id, role, enrolled, completed, completed_self, "
        "completed_in_person, completed_assisted) "
        "SELECT unit_id, course_id, role, sum(enrolled), sum(completed), sum(completed_self), "
        "sum(completed_in_person), sum(completed_assisted) FROM learning_stats GROUP BY unit_id, course_id, role"
    )
    op.execute(
        "INSERT INTO learner_totals (unit_id, role, new_learners, new_completers) "
        "SELECT unit_id, role, sum(new_learners), sum(new_completers) FROM learner_stats GROUP BY unit_id, role"
    )
    op.execute(
        "INSERT INTO visit_totals (unit_id, requests, visits_done, resolved, rating_sum, rating_count, "
        "minutes_spent) "
        "SELECT unit_id, sum(requests), sum(visits_done), sum(resolved), sum(rating_sum), sum(rating_count), "
        "sum(minutes_spent) FROM visit_stats GROUP BY unit_id"
    )
    op.execute(
        "INSERT INTO milestone_totals (unit_id, milestone_id, reached) "
        "SELECT unit_id, milestone_id, sum(reached) FROM milestone_stats GROUP BY unit_id, milestone_id"
    )


def downgrade():
    op.drop_table('promise_totals')
    op.drop_table('promise_stats')
    op.drop_index('ix_help_requests_awaiting_call', table_name='help_requests')
    op.drop_table('milestone_totals')
    op.drop_table('visit_totals')
    op.drop_table('learner_totals')
    op.drop_table('learning_totals')
