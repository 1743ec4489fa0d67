"""Database-level guarantees that SQLAlchemy's portable constraints cannot express."""

from sqlalchemy import DDL, event

from app.visits.models import Visit

#: No two active visits of one member overlap in time (PostgreSQL, needs btree_gist).
VISIT_OVERLAP_DDL = (
    "ALTER TABLE visits ADD CONSTRAINT ex_visits_member_overlap EXCLUDE USING gist "
    "(member_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
    "WHERE (status IN ('booked', 'done'))"
)

# For databases built from the models (the test suite) rather than from the migrations.
event.listen(
    Visit.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"),
)
event.listen(Visit.__table__, "after_create", DDL(VISIT_OVERLAP_DDL).execute_if(dialect="postgresql"))
