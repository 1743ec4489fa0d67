"""Imports every feature's models, so the metadata is complete wherever it is needed."""

from app.audit.models import AuditEvent
from app.auth.models import Consent, User
from app.jobs.models import Message
from app.learning.models import (
    Assignment,
    AttemptChoice,
    AttemptQuestion,
    Certificate,
    ClassAttendance,
    Course,
    CourseModule,
    Enrollment,
    Lesson,
    LessonBody,
    LessonProgress,
    ModuleCompletion,
    Option,
    Question,
    Quiz,
    QuizAttempt,
    TrainingClass,
)
from app.units.models import Unit
from app.visits import constraints as _visit_constraints  # noqa: F401  (PostgreSQL-only DDL)
from app.visits.models import (
    AvailabilityException,
    CalendarFeed,
    GroupSession,
    HelpRequest,
    SessionSignup,
    Team,
    TeamMember,
    Visit,
    WeeklyAvailability,
)

__all__ = [
    "Assignment",
    "AttemptChoice",
    "AttemptQuestion",
    "AuditEvent",
    "AvailabilityException",
    "CalendarFeed",
    "Certificate",
    "ClassAttendance",
    "Consent",
    "Course",
    "CourseModule",
    "Enrollment",
    "GroupSession",
    "HelpRequest",
    "Lesson",
    "LessonBody",
    "LessonProgress",
    "Message",
    "ModuleCompletion",
    "Option",
    "Question",
    "Quiz",
    "QuizAttempt",
    "SessionSignup",
    "Team",
    "TeamMember",
    "TrainingClass",
    "Unit",
    "User",
    "Visit",
    "WeeklyAvailability",
]
