"""The personal data of this package's tables, declared in the register (app.privacy.register).

The summary tables hold counts per unit and week, never a person: nothing here is personal.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.privacy.register import declare

declare(
    "learner_stats",
    _l("Counts of new learners per unit and week"),
    not_personal={"unit_id", "role", "week", "new_learners", "new_completers"},
)
declare(
    "learning_stats",
    _l("Counts of enrolments and completions per unit, course and week"),
    not_personal={
        "unit_id",
        "course_id",
        "role",
        "week",
        "enrolled",
        "completed",
        "completed_self",
        "completed_in_person",
        "completed_assisted",
    },
)
declare(
    "milestone_stats",
    _l("Counts of milestones reached per unit and week"),
    not_personal={"unit_id", "milestone_id", "week", "reached"},
)
declare("people_stats", _l("Counts of accounts per unit and role"), not_personal={"unit_id", "role", "accounts"})
declare(
    "skill_demand_stats",
    _l("Counts of help asked for per unit, skill and week"),
    not_personal={"unit_id", "skill", "week", "requests", "visits_done"},
)
declare(
    "visit_stats",
    _l("Counts of requests and visits per unit and week"),
    not_personal={
        "unit_id",
        "week",
        "requests",
        "visits_done",
        "resolved",
        "rating_sum",
        "rating_count",
        "minutes_spent",
    },
)
declare(
    "wait_stats",
    _l("Counts of waiting times per unit and week"),
    not_personal={"unit_id", "week", "bucket", "visits"},
)
declare("wait_totals", _l("Counts of waiting times per unit"), not_personal={"unit_id", "bucket", "visits"})
declare(
    "promise_stats",
    _l("Counts of requests called within the team's promise per unit and week"),
    not_personal={"unit_id", "week", "counted", "in_time"},
)
# The all-time totals of the weekly tables above: the same counts without the week.
declare(
    "learner_totals",
    _l("Counts of new learners per unit"),
    not_personal={"unit_id", "role", "new_learners", "new_completers"},
)
declare(
    "learning_totals",
    _l("Counts of enrolments and completions per unit and course"),
    not_personal={
        "unit_id",
        "course_id",
        "role",
        "enrolled",
        "completed",
        "completed_self",
        "completed_in_person",
        "completed_assisted",
    },
)
declare(
    "milestone_totals",
    _l("Counts of milestones reached per unit"),
    not_personal={"unit_id", "milestone_id", "reached"},
)
declare(
    "promise_totals",
    _l("Counts of requests called within the team's promise per unit"),
    not_personal={"unit_id", "counted", "in_time"},
)
declare(
    "visit_totals",
    _l("Counts of requests and visits per unit"),
    not_personal={"unit_id", "requests", "visits_done", "resolved", "rating_sum", "rating_count", "minutes_spent"},
)

# The last comparison of each summary table with a recount: a number of rows, no one's data.
declare(
    "summary_checks",
    _l("Checks of the summary tables"),
    not_personal={"table_name", "differing_rows", "checked_at"},
)
