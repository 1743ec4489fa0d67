"""Imports every feature's models, so the metadata is complete wherever it is needed."""

from app.audit.models import AuditEvent
from app.auth.models import Consent, User
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

__all__ = [
    "Assignment",
    "AttemptChoice",
    "AttemptQuestion",
    "AuditEvent",
    "Certificate",
    "ClassAttendance",
    "Consent",
    "Course",
    "CourseModule",
    "Enrollment",
    "Lesson",
    "LessonBody",
    "LessonProgress",
    "ModuleCompletion",
    "Option",
    "Question",
    "Quiz",
    "QuizAttempt",
    "TrainingClass",
    "Unit",
    "User",
]
