"""Summary tables behind the dashboards, kept up to date in the same transaction as the change
that moves them (an enrolment, a completion, a request, a visit, a milestone, an account).

Each event adds to the row of the person's (or the place's) own unit AND of every unit above
it, so any unit's figures — and its children's — are read directly, without scanning the
underlying tables. `app.reports.recount.rebuild()` recomputes all of them from scratch.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime
from app.extensions import db


class LearningStat(db.Model):
    """Enrolments and completions per unit (and ancestors), course, learner role and week."""

    __tablename__ = "learning_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: Monday of the week (local time) the enrolment or completion happened.
    week: Mapped[date] = mapped_column(primary_key=True)
    enrolled: Mapped[int] = mapped_column(default=0)
    completed: Mapped[int] = mapped_column(default=0)
    completed_self: Mapped[int] = mapped_column(default=0)
    completed_in_person: Mapped[int] = mapped_column(default=0)
    completed_assisted: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<LearningStat unit={self.unit_id} course={self.course_id} {self.role} {self.week}>"


class LearnerStat(db.Model):
    """People who started learning (first enrolment) and who completed a first course."""

    __tablename__ = "learner_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    week: Mapped[date] = mapped_column(primary_key=True)
    new_learners: Mapped[int] = mapped_column(default=0)
    new_completers: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<LearnerStat unit={self.unit_id} {self.role} {self.week}>"


class PeopleStat(db.Model):
    """Active accounts per unit and role (the denominator for cadres' shares)."""

    __tablename__ = "people_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    accounts: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<PeopleStat unit={self.unit_id} {self.role} {self.accounts}>"


class VisitStat(db.Model):
    """Help requests and completed visits per unit and week."""

    __tablename__ = "visit_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    week: Mapped[date] = mapped_column(primary_key=True)
    requests: Mapped[int] = mapped_column(default=0)
    visits_done: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    rating_count: Mapped[int] = mapped_column(default=0)
    minutes_spent: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<VisitStat unit={self.unit_id} {self.week}>"


class WaitStat(db.Model):
    """How long requests waited for their visit: a histogram, so medians need no sorting of
    every request. Buckets are hours (0–47), then whole days (48 = 2 days … 89 = 43+ days)."""

    __tablename__ = "wait_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    week: Mapped[date] = mapped_column(primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)
    visits: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<WaitStat unit={self.unit_id} {self.week} bucket={self.bucket}>"


class WaitTotal(db.Model):
    """The wait histogram over all time (WaitStat summed over weeks), so the unfiltered
    dashboards read a hundred rows per area instead of a year of weeks."""

    __tablename__ = "wait_totals"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)
    visits: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<WaitTotal unit={self.unit_id} bucket={self.bucket}>"


class SkillDemandStat(db.Model):
    """Requests per unit, skill and week (top topics, unmet demand)."""

    __tablename__ = "skill_demand_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(30), primary_key=True)
    week: Mapped[date] = mapped_column(primary_key=True)
    requests: Mapped[int] = mapped_column(default=0)
    visits_done: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<SkillDemandStat unit={self.unit_id} {self.skill} {self.week}>"


class MilestoneStat(db.Model):
    """Residents reaching each milestone per unit and week."""

    __tablename__ = "milestone_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), primary_key=True)
    week: Mapped[date] = mapped_column(primary_key=True)
    reached: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<MilestoneStat unit={self.unit_id} milestone={self.milestone_id} {self.week}>"


class PromiseStat(db.Model):
    """The teams' promise to call, for requests whose standing can no longer change with time
    (contacted, or cancelled uncontacted after the promise ended), per unit and the week the
    request was filed: how many count, and how many of them were contacted in time. Requests
    still waiting for a first call are counted live (app.reports.promise)."""

    __tablename__ = "promise_stats"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    week: Mapped[date] = mapped_column(primary_key=True)
    counted: Mapped[int] = mapped_column(default=0)
    in_time: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<PromiseStat unit={self.unit_id} {self.week}>"


# --- all-time totals ------------------------------------------------------------------------
#
# The weekly tables summed over every week, kept by the same bump (app.reports.summaries) and
# the same recount: a dashboard or overview without a date range reads one row per unit (and
# course, role …) instead of summing a year or more of weeks, and "before this month" is the
# total less the few weeks since.


class LearningTotal(db.Model):
    """LearningStat over all weeks."""

    __tablename__ = "learning_totals"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    enrolled: Mapped[int] = mapped_column(default=0)
    completed: Mapped[int] = mapped_column(default=0)
    completed_self: Mapped[int] = mapped_column(default=0)
    completed_in_person: Mapped[int] = mapped_column(default=0)
    completed_assisted: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<LearningTotal unit={self.unit_id} course={self.course_id} {self.role}>"


class LearnerTotal(db.Model):
    """LearnerStat over all weeks."""

    __tablename__ = "learner_totals"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    new_learners: Mapped[int] = mapped_column(default=0)
    new_completers: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<LearnerTotal unit={self.unit_id} {self.role}>"


class VisitTotal(db.Model):
    """VisitStat over all weeks."""

    __tablename__ = "visit_totals"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    requests: Mapped[int] = mapped_column(default=0)
    visits_done: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    rating_count: Mapped[int] = mapped_column(default=0)
    minutes_spent: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<VisitTotal unit={self.unit_id}>"


class MilestoneTotal(db.Model):
    """MilestoneStat over all weeks."""

    __tablename__ = "milestone_totals"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), primary_key=True)
    reached: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<MilestoneTotal unit={self.unit_id} milestone={self.milestone_id}>"


class PromiseTotal(db.Model):
    """PromiseStat over all weeks."""

    __tablename__ = "promise_totals"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    counted: Mapped[int] = mapped_column(default=0)
    in_time: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<PromiseTotal unit={self.unit_id}>"


#: Each weekly table and its all-time total (the total's key is the weekly key without the week).
WEEKLY_TOTALS = {
    LearningStat: LearningTotal,
    LearnerStat: LearnerTotal,
    VisitStat: VisitTotal,
    WaitStat: WaitTotal,
    MilestoneStat: MilestoneTotal,
    PromiseStat: PromiseTotal,
}


class SummaryCheck(db.Model):
    """The last comparison of a summary table with a recount from scratch (app.reports.recount.
    check_drift, run nightly and by `flask reports check`): how many of its rows differ."""

    __tablename__ = "summary_checks"

    table_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    differing_rows: Mapped[int] = mapped_column(default=0)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
