"""The API's contract: an OpenAPI 3.1 document for every endpoint of /api/v1.

Served as JSON at GET /api/v1/openapi.json and shown as a page at GET /api/v1/docs (docs.py).
Each operation lists its parameters, its body, its answer and every error status it can give;
an error is always the one `Error` shape. tests/api/test_openapi.py keeps the document complete
(every route of the blueprint is here, and nothing else) and runs Schemathesis against the app to
check that every answer is one the document lists, in the shape it gives.

When an endpoint changes, change its entry in OPERATIONS below in the same commit.
"""

from __future__ import annotations

from copy import deepcopy

from app.auth.models import ROLES
from app.jobs.message_states import STATES
from app.jobs.models import CHANNELS, RECEIPT_STATUSES
from app.learning.models import AUDIENCES, COMPLETION_MODES, QUESTION_KINDS, QUIZ_REVIEWS
from app.outcomes.models import CONFIRMATIONS, WALK_STATUSES
from app.privacy.models import READ_KINDS, REQUEST_KINDS, REQUEST_OUTCOMES
from app.privacy.purposes import CONSENT_CHANNELS, CONSENT_PURPOSES, LEGAL_BASES, PURPOSES, RECORD_BASES
from app.units.models import KIND_LEVELS
from app.visits.models import REQUEST_STATUSES, SKILLS, VISIT_STATUSES

PREFIX = "/api/v1"
#: Error statuses and what each means, for the document's shared answers.
ERRORS = {
    400: "The request cannot be read: the body is not a JSON object or nests too deep (`bad_json`).",
    401: "No valid token (`unauthorized`), or for a token request a wrong username or password "
    "(`invalid_credentials`). Carries `WWW-Authenticate: Bearer`.",
    403: "The caller may not do this, or the record is outside their area (`forbidden`).",
    404: "No such record, or nothing has this code (`not_found`).",
    409: "The request conflicts with what exists: a time that is taken, a full session, an attempt "
    "already submitted (`conflict`). A broken time rule says which in `rule`.",
    413: "The body is larger than the server accepts (`too_large`).",
    415: "The body was not sent as `application/json` (`unsupported_media_type`).",
    422: "A value could be read but not accepted (`invalid`); `field` names it. Any query argument "
    "or JSON text holding a NUL or another control character is refused this way.",
    429: "Too many failed sign-ins or recovery codes; wait and try again (`too_many_requests`). "
    "`Retry-After` says how long.",
}
#: Any request can be unreadable (400) or carry a control character in a query argument (422); one
#: with a JSON body can also be too large or not JSON.
ALWAYS_ERRORS = (400, 422)
BODY_ERRORS = (413, 415)

# --- schema helpers ------------------------------------------------------------------------


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


def obj(properties: dict, *, required: tuple[str, ...] | None = None, description: str | None = None) -> dict:
    """An object with these properties, all required unless `required` says which."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
    }
    if description:
        schema["description"] = description
    return schema


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
NUMBER = {"type": "number"}
DATE = {"type": "string", "format": "date"}
MOMENT = {"type": "string", "format": "date-time"}
ID = {"type": "integer", "minimum": 1, "maximum": 2147483647}
SKILL = {"type": "string", "enum": list(SKILLS)}
CONFIRMATION = {"type": "string", "enum": list(CONFIRMATIONS), "description": "How it was confirmed."}


def described(schema: dict, description: str) -> dict:
    return {**schema, "description": description}


def text(description: str, **extra) -> dict:
    """A string with its meaning (and e.g. a `format`)."""
    return described({"type": "string", **extra}, description)


# --- schemas -------------------------------------------------------------------------------

_VISIT_TIME_RULES = "hours, buffer or daily_cap"

SCHEMAS: dict[str, dict] = {
    "Error": obj(
        {
            "error": {
                "type": "object",
                "properties": {
                    "code": text("A stable code: bad_json, unauthorized, forbidden, not_found, conflict, invalid…"),
                    "message": text("What is wrong and what to send instead, in the caller's language."),
                    "field": text("The field or query argument at fault, when one is."),
                    "rule": text(f"For a refused time: the rule it breaks ({_VISIT_TIME_RULES})."),
                    "problems": array(
                        obj({"row": INTEGER, "message": STRING}, description="A refused list's problem.")
                    ),
                },
                "required": ["code", "message"],
            }
        },
        description="Every error answer has this shape.",
    ),
    "TokenRequest": obj({"username": STRING, "password": STRING}),
    "RecoveryRequest": obj({"login": text("A username, a phone number (any format) or an e-mail address.")}),
    "RecoveryConfirm": obj(
        {
            "login": text("What was sent to POST /auth/recovery."),
            "code": text("The 6 digits from the message."),
            "new_password": text("Judged like every new password (at least 8 characters, not easy to guess)."),
        }
    ),
    "RecoveryStarted": obj({"status": {"type": "string", "enum": ["sent_if_exists"]}}),
    "RecoveryDone": obj({"status": {"type": "string", "enum": ["password_changed"]}}),
    "Token": obj({"token": text("Send as Authorization: Bearer <token>."), "expires_at": MOMENT}),
    "Me": obj(
        {
            "id": INTEGER,
            "username": STRING,
            "role": {"type": "string", "enum": list(ROLES)},
            "unit_code": STRING,
            "locale": nullable("string", description="The saved language (vi, en, bn), or null."),
            "phone": nullable("string", description="The phone number in E.164 (+84912345678), or null."),
            "preferred_channels": array(
                described(
                    {"type": "string", "enum": list(CHANNELS)},
                    "The channels messages go by, in order; empty: e-mail when there is an address, else in-app.",
                )
            ),
        }
    ),
    "Message": obj(
        {
            "id": INTEGER,
            "subject": STRING,
            "created_at": MOMENT,
            "channel": {
                "type": ["string", "null"],
                "enum": [*CHANNELS, None],
                "description": "The channel that carried it; null while it waits for one.",
            },
            "status": {"type": "string", "enum": list(STATES), "description": "How far it got."},
            "delivery_status": {
                "type": ["string", "null"],
                "enum": [*RECEIPT_STATUSES, None],
                "description": "What the provider's delivery receipt said; null without one.",
            },
            "delivered_at": nullable("string", format="date-time", description="When it arrived, by the receipt."),
            "link": nullable("string", description="The page the message is about (a path)."),
            "read": described(BOOLEAN, "Whether the person has opened their notifications since."),
        }
    ),
    "MeChange": obj(
        {
            "phone": {
                "type": ["string", "null"],
                "description": "A phone number, e.g. 0912 345 678; stored in E.164; null or empty removes it.",
            },
            "preferred_channels": {
                "type": "array",
                "items": {"type": "string", "enum": list(CHANNELS)},
                "uniqueItems": True,
                "description": "The order of channels, each at most once; zalo and sms need a phone, email an "
                "e-mail address; in_app ends the order; [] goes back to the default.",
            },
        },
        required=(),
    ),
    "Unit": obj(
        {
            "code": STRING,
            "name": text("In the caller's language where the unit has one."),
            "kind": {"type": "string", "enum": list(KIND_LEVELS)},
            "parent_code": nullable("string"),
            "population": nullable("integer", description="Adults, where known."),
        }
    ),
    "CourseSummary": obj(
        {
            "slug": STRING,
            "title": STRING,
            "audience": {"type": "string", "enum": list(AUDIENCES)},
            "module_count": INTEGER,
            "languages": array(STRING),
            "estimated_minutes": INTEGER,
        }
    ),
    "Course": obj(
        {
            "slug": STRING,
            "title": STRING,
            "summary": STRING,
            "audience": {"type": "string", "enum": list(AUDIENCES)},
            "version": INTEGER,
            "modules": array(
                obj(
                    {
                        "key": STRING,
                        "title": STRING,
                        "lessons": array(obj({"id": INTEGER, "key": STRING, "title": STRING})),
                        "quiz_id": nullable("integer"),
                    }
                )
            ),
        }
    ),
    "Enrollment": obj(
        {
            "course": text("The course's slug."),
            "enrolled_at": MOMENT,
            "completed_at": nullable("string", format="date-time"),
            "completion_mode": {"type": ["string", "null"], "enum": [*COMPLETION_MODES, None]},
        }
    ),
    "LessonRead": obj(
        {
            "lesson_id": INTEGER,
            "read": {"const": True},
            "course_progress": {"type": "integer", "minimum": 0, "maximum": 100},
        }
    ),
    "Quiz": obj(
        {
            "quiz_id": INTEGER,
            "attempt": described(INTEGER, "The number of the caller's open attempt."),
            "pass_mark": INTEGER,
            "attempts_left": nullable("integer", description="Attempts not yet submitted; null when unlimited."),
            "questions": array(
                obj(
                    {
                        "id": INTEGER,
                        "kind": {"type": "string", "enum": list(QUESTION_KINDS)},
                        "prompt": STRING,
                        "options": array(obj({"id": INTEGER, "text": STRING})),
                    }
                )
            ),
        },
        description="The questions in the attempt's shuffled order, never the answers.",
    ),
    "Answers": obj(
        {
            "answers": {
                "type": "object",
                "description": "Question id → the ids of the chosen options (ids as numbers or digit strings).",
                "propertyNames": {"pattern": "^[0-9]{1,10}$"},
                "additionalProperties": array({"type": ["integer", "string"]}),
            }
        }
    ),
    "AttemptResult": obj(
        {
            "score": INTEGER,
            "max_score": INTEGER,
            "passed": BOOLEAN,
            "attempt": INTEGER,
            "review": {
                "type": "string",
                "enum": list(QUIZ_REVIEWS),
                "description": "What this answer shows: full (right options and explanations, after a pass "
                "or the last attempt), mistakes (which answers were wrong and the explanations, not the "
                "right options) or score (the score alone: no feedback).",
            },
            "attempts_left": {"type": ["integer", "null"], "description": "null when unlimited."},
            "feedback": array(
                obj(
                    {
                        "question_id": INTEGER,
                        "correct": BOOLEAN,
                        "correct_option_ids": {
                            "type": ["array", "null"],
                            "items": INTEGER,
                            "description": "null until the quiz is passed or no attempts are left.",
                        },
                        "explanation": STRING,
                    }
                )
            ),
        }
    ),
    "CourseProgress": obj(
        {
            "slug": STRING,
            "status": {"type": "string", "enum": ["not_started", "in_progress", "completed"]},
            "percent": {"type": "integer", "minimum": 0, "maximum": 100},
            "completed_at": nullable("string", format="date-time"),
            "completion_mode": {"type": ["string", "null"], "enum": [*COMPLETION_MODES, None]},
            "certificate_code": nullable("string"),
        }
    ),
    "Certificate": obj({"valid": {"const": True}, "name": STRING, "course": STRING, "completed_on": DATE}),
    "Skill": obj({"key": SKILL, "name": STRING}),
    "Team": obj(
        {
            "id": INTEGER,
            "name": STRING,
            "unit_code": STRING,
            "members": array(
                obj(
                    {
                        "id": INTEGER,
                        "name": STRING,
                        "skills": array(SKILL),
                        "is_leader": BOOLEAN,
                        "active": BOOLEAN,
                    }
                )
            ),
        }
    ),
    "Slot": obj({"member_id": INTEGER, "start": MOMENT, "end": MOMENT}),
    "NewHelpRequest": obj(
        {
            "skill": SKILL,
            "unit_code": text("The village or commune where help is needed."),
            "place": text("Address or meeting point."),
            "name": text("The person to help; required unless a resident asks for themselves."),
            "phone": STRING,
            "note": STRING,
            "preferred_times": STRING,
            "consent": {"const": True, "description": "The person agrees that their details are recorded."},
        },
        required=("skill", "unit_code", "place", "consent"),
    ),
    "HelpRequest": obj(
        {
            "id": INTEGER,
            "skill": SKILL,
            "unit_code": STRING,
            "place": STRING,
            "note": nullable("string"),
            "preferred_times": nullable("string"),
            "name": STRING,
            "phone": nullable("string"),
            "resident_id": nullable("integer"),
            "status": {"type": "string", "enum": list(REQUEST_STATUSES)},
            "created_at": MOMENT,
            "contact_promise_days": described(
                nullable("integer"), "The team's promise when it was filed: it calls within so many working days."
            ),
            "contact_by": described(nullable("string", format="date"), "The last day of the team's promise."),
            "first_contacted_at": described(
                nullable("string", format="date-time"),
                "When the team first booked a visit, recorded a call or marked it could not reach.",
            ),
            "cancel_reason": nullable("string"),
            "time_wish": described(
                nullable("string"), "The resident asks for another time (until a visit is booked or moved)."
            ),
            "time_wish_on": nullable("string", format="date"),
            "visits": described(
                array(
                    obj(
                        {
                            "id": INTEGER,
                            "start": MOMENT,
                            "end": MOMENT,
                            "place": STRING,
                            "member_name": STRING,
                            "member_work_phone": described(nullable("string"), "E.164; null: the team will call."),
                        }
                    )
                ),
                "Booked visits with who will come: only for the person the request is for.",
            ),
        },
        required=(
            "id",
            "skill",
            "unit_code",
            "place",
            "note",
            "preferred_times",
            "name",
            "phone",
            "resident_id",
            "status",
            "created_at",
            "contact_promise_days",
            "contact_by",
            "first_contacted_at",
            "cancel_reason",
            "time_wish",
            "time_wish_on",
        ),
    ),
    "HelpRequestChange": {
        "description": "One action of the person who asked for help.",
        "oneOf": [
            obj(
                {"action": {"const": "cancel"}, "reason": text("Why (optional; at most 300 characters).")},
                required=("action",),
            ),
            obj(
                {
                    "action": {"const": "ask_another_time"},
                    "wish": text("When would suit better, e.g. Saturday morning (at most 200 characters)."),
                    "date": text("A day that suits, from today to a year ahead.", format="date"),
                },
                required=("action",),
                description="Give `wish`, `date` or both.",
            ),
            obj(
                {"action": {"const": "record_contact"}},
                description="The team called the person (those who manage visits in its area); only the "
                "first contact counts for the team's promise.",
            ),
        ],
    },
    "Visit": obj(
        {
            "id": INTEGER,
            "member_id": INTEGER,
            "member_name": STRING,
            "unit_code": STRING,
            "request_id": nullable("integer"),
            "resident_id": nullable("integer"),
            "skill": SKILL,
            "place": STRING,
            "start": MOMENT,
            "end": MOMENT,
            "duration_minutes": INTEGER,
            "status": {"type": "string", "enum": list(VISIT_STATUSES)},
            "cancel_reason": nullable("string"),
            "skills_done": {"type": ["array", "null"], "items": STRING},
            "resolved": nullable("boolean"),
            "follow_up_needed": nullable("boolean"),
            "minutes_spent": nullable("integer"),
            "notes": nullable("string"),
            "rating": nullable("integer"),
            "completed_at": nullable("string", format="date-time"),
        },
        description="Times in Asia/Ho_Chi_Minh (+07:00).",
    ),
    "Override": obj(
        {
            "override": described(
                BOOLEAN, f"A commune manager sets aside the member's time rules ({_VISIT_TIME_RULES})."
            ),
            "override_reason": text("Why, recorded in the audit log; required with override."),
        },
        required=(),
    ),
    "NewVisit": {
        "allOf": [
            obj(
                {
                    "member_id": ID,
                    "start": text("ISO 8601 with offset, e.g. 2030-01-07T18:00:00+07:00.", format="date-time"),
                    "duration_minutes": INTEGER,
                    "skill": SKILL,
                    "request_id": ID,
                    "resident_id": ID,
                    "place": text("Where; required for a resident, the help request's place by default."),
                },
                required=("member_id", "start", "duration_minutes", "skill"),
                description="Give exactly one of request_id and resident_id.",
            ),
            ref("Override"),
        ]
    },
    "VisitChange": {
        "description": "One action on a visit, with that action's fields.",
        "oneOf": [
            {
                "allOf": [
                    obj(
                        {
                            "action": {"const": "reschedule"},
                            "start": MOMENT,
                            "duration_minutes": described(INTEGER, "Keeps the visit's length when left out."),
                        },
                        required=("action", "start"),
                    ),
                    ref("Override"),
                ]
            },
            obj({"action": {"const": "cancel"}, "reason": STRING}, required=("action",)),
            obj({"action": {"const": "no_show"}}),
            obj(
                {
                    "action": {"const": "complete"},
                    "skills_done": array(SKILL),
                    "resolved": BOOLEAN,
                    "minutes_spent": INTEGER,
                    "notes": STRING,
                    "rating": {"type": "integer", "minimum": 1, "maximum": 5},
                    "follow_up_reason": text("What still needs doing; opens a follow-up."),
                    "follow_up_due": DATE,
                    "milestones": array(
                        obj(
                            {
                                "milestone": text("A key from GET /milestones."),
                                "confirmed_by": CONFIRMATION,
                            }
                        )
                    ),
                    "credit_learning": described(BOOLEAN, "Also credit the course modules that the skills done cover."),
                },
                required=("action", "skills_done", "resolved", "minutes_spent"),
            ),
        ],
    },
    "GroupSession": obj(
        {
            "id": INTEGER,
            "title": STRING,
            "place": STRING,
            "unit_code": STRING,
            "start": MOMENT,
            "end": MOMENT,
            "skills": array(SKILL),
            "host_id": INTEGER,
            "capacity": INTEGER,
            "signed_up": INTEGER,
            "places_left": INTEGER,
            "you_are_signed_up": BOOLEAN,
        },
        required=(
            "id",
            "title",
            "place",
            "unit_code",
            "start",
            "end",
            "skills",
            "host_id",
            "capacity",
            "signed_up",
            "places_left",
        ),
    ),
    "NewSignup": obj(
        {"user_id": described(ID, "A resident signed up by a team member or manager; the caller by default.")},
        required=(),
    ),
    "Signup": obj(
        {
            "id": INTEGER,
            "session_id": INTEGER,
            "user_id": INTEGER,
            "signed_up_by_id": INTEGER,
            "session": ref("GroupSession"),
        }
    ),
    "Milestone": obj({"key": STRING, "name": STRING}),
    "Resident": obj(
        {
            "id": INTEGER,
            "name": STRING,
            "village": STRING,
            "village_name": STRING,
            "household": nullable("string", description="The household's address."),
        }
    ),
    "ResidentPage": obj(
        {
            "items": array(ref("Resident")),
            "page": INTEGER,
            "per_page": INTEGER,
            "total": INTEGER,
        }
    ),
    "NewMilestone": obj(
        {
            "milestone": text("A key from GET /milestones."),
            "date": text("When it was reached; not in the future.", format="date"),
            "confirmed_by": CONFIRMATION,
            "visit_id": described(ID, "The visit at which it was reached, if any."),
            "helped_by": described(ID, "The team member who helped; the visit's member by default."),
        },
        required=("milestone", "date", "confirmed_by"),
    ),
    "MilestoneRecorded": obj({"resident": INTEGER, "milestone": STRING, "reached_on": DATE, "newly_reached": BOOLEAN}),
    "IndicatorRow": obj(
        {
            "unit_code": STRING,
            "unit_name": STRING,
            "adults": nullable("integer"),
            "residents_reached": INTEGER,
            "milestones": {
                "type": "object",
                "description": "Per milestone key: how many residents reached it, and their share of the adults.",
                "additionalProperties": obj({"count": INTEGER, "share": nullable("number")}),
            },
            "basic_digital_skills": obj({"self_study": INTEGER, "with_help": INTEGER, "share": nullable("number")}),
        }
    ),
    "WalkList": obj(
        {
            "campaign": obj(
                {
                    "id": INTEGER,
                    "name": STRING,
                    "milestone": STRING,
                    "milestone_name": STRING,
                    "unit": STRING,
                    "villages": array(STRING),
                    "starts_on": DATE,
                    "ends_on": DATE,
                }
            ),
            "entries": array(
                obj(
                    {
                        "id": INTEGER,
                        "household_id": INTEGER,
                        "household_code": STRING,
                        "address": STRING,
                        "village": STRING,
                        "village_name": STRING,
                        "member_id": INTEGER,
                        "position": INTEGER,
                        "status": {"type": "string", "enum": list(WALK_STATUSES)},
                        "note": nullable("string"),
                        "residents": array(obj({"id": INTEGER, "name": STRING, "birth_year": nullable("integer")})),
                    }
                )
            ),
        }
    ),
    "ReportUnit": obj(
        {
            "code": STRING,
            "name": STRING,
            "kind": {"type": "string", "enum": list(KIND_LEVELS)},
            "population": nullable("integer"),
        }
    ),
    "CompletionReport": obj(
        {
            "unit": ref("ReportUnit"),
            "rows": array(ref("CompletionRow")),
            "totals": {**ref("CompletionRow"), "description": "From the unit's own figures."},
            "note": STRING,
        }
    ),
    "CompletionRow": obj(
        {
            "unit_code": STRING,
            "unit_name": STRING,
            "population": nullable("integer"),
            "enrolled": INTEGER,
            "completed": INTEGER,
            "completion_rate": nullable("number", description="completed / population, 0 to 1."),
        },
        required=(),
    ),
    "VisitsReport": obj(
        {
            "unit": ref("ReportUnit"),
            "rows": array(ref("VisitsRow")),
            "totals": {**ref("VisitsRow"), "description": "From the unit's own figures."},
            "note": STRING,
        }
    ),
    "VisitsRow": obj(
        {
            "unit_code": STRING,
            "unit_name": STRING,
            "requests": INTEGER,
            "visits_done": INTEGER,
            "median_wait_hours": nullable("number"),
            "resolved_share": nullable("number", description="0 to 1."),
            "average_rating": nullable("number", description="1 to 5."),
            "called_in_time_share": nullable(
                "number", description="0 to 1: requests contacted within their team's promise to call."
            ),
        },
        required=(),
    ),
}

# ---- privacy: residents and consents (schemas) ----

CONSENT = obj(
    {
        "id": INTEGER,
        "purpose": {"type": "string", "enum": list(PURPOSES)},
        "basis": {"type": "string", "enum": list(LEGAL_BASES)},
        "channel": {"type": ["string", "null"], "enum": [*CONSENT_CHANNELS, None]},
        "notice_version": nullable("string", description="The privacy notice shown; null before versions."),
        "evidence": nullable("string", description="The paper form's reference."),
        "given_at": MOMENT,
        "recorded_by_id": nullable("integer"),
        "withdrawn_at": nullable("string", format="date-time"),
        "active": BOOLEAN,
    }
)
NEW_CONSENT = obj(
    {
        "purpose": {"type": "string", "enum": list(PURPOSES)},
        "basis": {"type": "string", "enum": list(LEGAL_BASES), "description": "The purpose's own by default."},
        "channel": {"type": "string", "enum": list(CONSENT_CHANNELS), "description": "Required for a consent."},
        "evidence": text("The paper form's reference.", maxLength=200),
    },
    required=("purpose",),
)
NEW_RESIDENT = obj(
    {
        "unit_code": text("The village's (or residential group's) code."),
        "full_name": text("The resident's name.", maxLength=200),
        "birth_year": {"type": "integer", "minimum": 1900, "maximum": 2100},
        "phone": text("A phone number, e.g. 0912 345 678 or +84 912 345 678; stored and returned in E.164."),
        "legal_basis": {"type": "string", "enum": list(RECORD_BASES)},
        "consents": array(
            obj(
                {
                    "purpose": {"type": "string", "enum": list(CONSENT_PURPOSES)},
                    "channel": {"type": "string", "enum": list(CONSENT_CHANNELS)},
                }
            )
        ),
        "evidence": text("The paper form's reference, when the consents were signed on paper.", maxLength=200),
    },
    required=("unit_code", "full_name", "legal_basis"),
)
HOUSEHOLD_LIST = obj(
    {
        "commune_code": text("The commune's or ward's code."),
        "legal_basis": {"type": "string", "enum": list(RECORD_BASES)},
        "consents": NEW_RESIDENT["properties"]["consents"],
        "evidence": text(
            "The reference of the signed consent forms, when the basis or a consent is consent.", maxLength=200
        ),
        "rows": array(
            obj(
                {
                    "village_code": STRING,
                    "household_code": STRING,
                    "address": STRING,
                    "resident_code": STRING,
                    "full_name": STRING,
                    "birth_year": {"type": ["integer", "string", "null"]},
                    "phone": {"type": ["string", "null"]},
                },
                required=("village_code", "household_code", "address", "resident_code", "full_name"),
            )
        ),
    },
    required=("commune_code", "legal_basis", "rows"),
)
NEW_RESIDENT_ANSWER = obj(
    {
        "id": INTEGER,
        "name": STRING,
        "village": STRING,
        "birth_year": nullable("integer"),
        "phone": nullable("string"),
        "consents": array(CONSENT),
    }
)


# ---- privacy: a person's requests, correction and restriction (schemas) ----

PERSON_REQUEST = obj(
    {
        "id": INTEGER,
        "kind": {"type": "string", "enum": list(REQUEST_KINDS)},
        "resident_id": nullable("integer", description="Null for a request about the linked account alone."),
        "details": nullable("string"),
        "received_at": MOMENT,
        "acknowledge_by": described(DATE, "The person must be answered by this day."),
        "due_by": described(DATE, "The request must be carried out by this day."),
        "acknowledged_at": nullable("string", format="date-time"),
        "closed_at": nullable("string", format="date-time"),
        "outcome": {"type": ["string", "null"], "enum": [*REQUEST_OUTCOMES, None]},
        "note": nullable("string", description="Why, for a refusal."),
        "late": described(BOOLEAN, "Not acknowledged after its acknowledge-by day, or open after its due day."),
    }
)
NEW_PERSON_REQUEST = obj(
    {
        "kind": {"type": "string", "enum": list(REQUEST_KINDS)},
        "details": text("What the person asks, in their words.", maxLength=2000),
    },
    required=("kind",),
)
CLOSE_PERSON_REQUEST = obj(
    {
        "outcome": {"type": "string", "enum": list(REQUEST_OUTCOMES)},
        "note": text("Why; required when the outcome is `refused`.", maxLength=2000),
    },
    required=("outcome",),
)
CORRECTION = obj(
    {
        "id": INTEGER,
        "table": text("`residents` for the record, `users` for the account linked to it."),
        "field": {"type": "string", "enum": ["full_name", "birth_year", "phone", "email"]},
        "old_value": nullable("string"),
        "new_value": nullable("string"),
        "corrected_at": MOMENT,
        "corrected_by_id": nullable("integer"),
        "request_id": nullable("integer", description="The correction request it answered."),
    }
)
RESIDENT_CORRECTION = obj(
    {
        "full_name": text("The resident's name.", maxLength=200),
        "birth_year": {"type": ["integer", "null"], "minimum": 1900, "maximum": 2100},
        "phone": {
            "type": ["string", "null"],
            "description": "A phone number, e.g. 0912 345 678; stored in E.164; null or empty clears it.",
        },
    },
    required=(),
)
CORRECTED_RESIDENT = obj(
    {
        "resident": obj(
            {
                "id": INTEGER,
                "full_name": STRING,
                "village": STRING,
                "birth_year": nullable("integer"),
                "phone": nullable("string"),
                "restricted": BOOLEAN,
            }
        ),
        "changed": array(CORRECTION),
    }
)
RESTRICTION = obj({"resident_id": INTEGER, "restricted": BOOLEAN})

# --- parameters ----------------------------------------------------------------------------


def query(name: str, schema: dict, description: str, *, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def path(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def unit_query(description: str = "A unit's code; the caller's whole area when left out.", **options) -> dict:
    return query("unit", {"type": "string", "maxLength": 32}, description, **options)


FROM_TO = [
    query("from", MOMENT, "ISO 8601 date and time with offset, e.g. 2030-01-07T00:00:00+07:00 (years 2000–2100)."),
    query("to", MOMENT, "As `from`, after it."),
]
REPORT_PERIOD = [
    query("from", DATE, "First day (YYYY-MM-DD); counted by whole weeks."),
    query("to", DATE, "Last day, not before `from`."),
]
REPORT_FORMAT = query("format", {"type": "string", "enum": ["json", "csv"], "default": "json"}, "json or csv.")

# --- operations ----------------------------------------------------------------------------


def json_answer(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def report_answer(description: str, schema: dict) -> dict:
    answer = json_answer(description, schema)
    answer["content"]["text/csv"] = {"schema": {"type": "string"}}
    return answer


def operation(
    operation_id: str,
    summary: str,
    *,
    tag: str,
    answers: dict[int, dict],
    description: str = "",
    parameters: tuple[dict, ...] | list[dict] = (),
    body: dict | None = None,
    body_required: bool = True,
    errors: tuple[int, ...] = (),
    public: bool = False,
) -> dict:
    """One operation: `answers` maps success statuses to their answer; `errors` lists the error
    statuses beyond those any request (400, 422), a token (401) or a JSON body (413, 415) can give."""
    entry = {"operationId": operation_id, "summary": summary, "tags": [tag]}
    if description:
        entry["description"] = description
    if parameters:
        entry["parameters"] = list(parameters)
    statuses = set(errors) | set(ALWAYS_ERRORS)
    if body is not None:
        entry["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": body}}}
        statuses.update(BODY_ERRORS)
    if public:
        entry["security"] = []
    else:
        statuses.add(401)
    responses = {str(status): answer for status, answer in answers.items()}
    responses.update({str(status): {"$ref": f"#/components/responses/{status}"} for status in sorted(statuses)})
    entry["responses"] = dict(sorted(responses.items()))
    return entry


#: A person's data: everything held about them, table by table.
PERSONAL_DATA = obj(
    {
        "generated_at": MOMENT,
        "subject": obj({"user_id": nullable("integer"), "resident_ids": array(INTEGER)}),
        "tables": {
            "type": "object",
            "description": "By table name: the register's title of the table and the person's rows.",
            "additionalProperties": obj({"title": STRING, "rows": array({"type": "object"})}),
        },
    }
)


#: {path: {method: operation}}; paths as Flask's rules without the prefix, `<int:x>` as `{x}`.
OPERATIONS: dict[str, dict[str, dict]] = {
    "/auth/token": {
        "post": operation(
            "issue_token",
            "Get a bearer token",
            tag="auth",
            description="A token for a username and password. Failed attempts are limited per account "
            "and per address. An account with a one-time password must sign in on the website first.",
            body=ref("TokenRequest"),
            answers={200: json_answer("The token and when it expires.", ref("Token"))},
            errors=(401, 403, 422, 429),
            public=True,
        )
    },
    "/auth/recovery": {
        "post": operation(
            "start_recovery",
            "Ask for a code to choose a new password",
            tag="auth",
            description="Sends a 6-digit code, valid for 10 minutes, to the phone (Zalo or SMS) or e-mail of "
            "the account that `login` names. The answer is the same whether the account exists or not, and "
            "when the account (3 codes per hour) or the caller's address (10 per hour) is over its limit, "
            "when no code is sent.",
            body=ref("RecoveryRequest"),
            answers={202: json_answer("A code was sent if the account exists.", ref("RecoveryStarted"))},
            public=True,
        )
    },
    "/auth/recovery/confirm": {
        "post": operation(
            "confirm_recovery",
            "Choose a new password with the code",
            tag="auth",
            description="Sets the new password: every session and token of the account ends, so get a new "
            "token. A wrong code answers 422 with the tries left (5 per code), an expired or used code 422; "
            "too many codes typed from one address, 429.",
            body=ref("RecoveryConfirm"),
            answers={200: json_answer("The new password is set.", ref("RecoveryDone"))},
            errors=(429,),
            public=True,
        )
    },
    "/me": {
        "get": operation("me", "Who the caller is", tag="auth", answers={200: json_answer("The caller.", ref("Me"))}),
        "patch": operation(
            "update_me",
            "Change the caller's phone and channel order",
            tag="auth",
            description="Either key may be left out. An unknown or repeated channel, a channel the caller "
            "cannot be reached by (zalo or sms without a phone) or a phone that cannot be read is refused "
            "(422, `field` names it) and nothing is changed.",
            body=ref("MeChange"),
            answers={200: json_answer("The caller as they are now.", ref("Me"))},
            errors=(422,),
        ),
    },
    "/me/messages": {
        "get": operation(
            "my_messages",
            "The caller's messages",
            tag="auth",
            description="The caller's own messages (notifications, reminders), newest first, each with the "
            "channel that carried it and how far it got: `status` is what the notifications page shows "
            "(waiting, sent, delivered, failed), `delivery_status` what the provider's receipt said, if "
            "one came. Never anyone else's messages.",
            parameters=[
                query("page", {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}, "Page number."),
                query("per_page", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "Page size."),
            ],
            answers={
                200: json_answer(
                    "One page of messages.",
                    obj(
                        {
                            "items": array(ref("Message")),
                            "page": INTEGER,
                            "per_page": INTEGER,
                            "total": INTEGER,
                        }
                    ),
                )
            },
            errors=(422,),
        )
    },
    "/units": {
        "get": operation(
            "list_units",
            "Units, one level at a time",
            tag="units",
            description="The children of `parent`; without it, the top of the caller's area.",
            parameters=[query("parent", {"type": "string", "maxLength": 32}, "A unit's code.")],
            answers={200: json_answer("Units.", array(ref("Unit")))},
            errors=(403, 404, 422),
        )
    },
    "/courses": {
        "get": operation(
            "list_courses",
            "Active courses",
            tag="learning",
            parameters=[query("audience", {"type": "string", "enum": list(AUDIENCES)}, "Only this audience's.")],
            answers={200: json_answer("Courses.", array(ref("CourseSummary")))},
            errors=(422,),
        )
    },
    "/courses/{slug}": {
        "get": operation(
            "course_detail",
            "A course with its modules and lessons",
            tag="learning",
            parameters=[path("slug", STRING, "The course's slug.")],
            answers={200: json_answer("The course.", ref("Course"))},
            errors=(404,),
        )
    },
    "/courses/{slug}/enrollments": {
        "post": operation(
            "enroll",
            "Enrol the caller",
            tag="learning",
            parameters=[path("slug", STRING, "The course's slug.")],
            answers={
                200: json_answer("Already enrolled.", ref("Enrollment")),
                201: json_answer("Enrolled now.", ref("Enrollment")),
            },
            errors=(404,),
        )
    },
    "/lessons/{lesson_id}/read": {
        "post": operation(
            "mark_lesson_read",
            "Mark a lesson read",
            tag="learning",
            parameters=[path("lesson_id", INTEGER, "The lesson's id.")],
            answers={200: json_answer("Read, with the course's progress.", ref("LessonRead"))},
            errors=(404, 422),
        )
    },
    "/quizzes/{quiz_id}": {
        "get": operation(
            "quiz",
            "A quiz's questions",
            tag="learning",
            description="The questions of the caller's open attempt, opened now if needed. Never the answers.",
            parameters=[path("quiz_id", INTEGER, "The quiz's id.")],
            answers={200: json_answer("The open attempt's questions.", ref("Quiz"))},
            errors=(404, 409, 422),
        )
    },
    "/quizzes/{quiz_id}/attempts": {
        "post": operation(
            "submit_attempt",
            "Submit answers",
            tag="learning",
            description="Grades the caller's open attempt (opening one if there is none) and returns the "
            "score with what the quiz's review setting allows: after a failed attempt with attempts left, "
            "which answers were wrong and the explanations but not the right options; after a pass or "
            "the last attempt, everything. Every question must be answered: otherwise 422 with the ids "
            "of the unanswered questions in `unanswered`, and the attempt does not count.",
            parameters=[path("quiz_id", INTEGER, "The quiz's id.")],
            body=ref("Answers"),
            answers={
                200: json_answer("The open attempt, graded.", ref("AttemptResult")),
                201: json_answer("A new attempt, graded.", ref("AttemptResult")),
            },
            errors=(404, 409, 422),
        )
    },
    "/me/progress": {
        "get": operation(
            "my_progress",
            "The caller's progress in every course",
            tag="learning",
            answers={200: json_answer("One row per course.", array(ref("CourseProgress")))},
        )
    },
    "/certificates/{code}": {
        "get": operation(
            "verify_certificate",
            "Check a certificate",
            tag="learning",
            description="Public: anyone holding a certificate's code may check it.",
            parameters=[path("code", STRING, "As printed; spaces, dashes and letter case do not matter.")],
            answers={200: json_answer("The certificate is valid.", ref("Certificate"))},
            errors=(404,),
            public=True,
        )
    },
    "/skills": {
        "get": operation(
            "list_skills",
            "Kinds of help",
            tag="visits",
            answers={200: json_answer("Every kind of help.", array(ref("Skill")))},
        )
    },
    "/teams": {
        "get": operation(
            "list_teams",
            "Teams in a unit",
            tag="visits",
            parameters=[unit_query("A unit's code: its teams and those below it.", required=True)],
            answers={200: json_answer("Teams with their members.", array(ref("Team")))},
            errors=(403, 404, 422),
        )
    },
    "/slots": {
        "get": operation(
            "list_slots",
            "Free slots",
            tag="visits",
            description="Times when a member who offers `skill` is free for `duration` minutes, "
            "searching at most 31 days.",
            parameters=[
                unit_query("The village or commune.", required=True),
                query("skill", SKILL, "The kind of help.", required=True),
                {**FROM_TO[0], "required": True},
                {**FROM_TO[1], "required": True},
                query("duration", INTEGER, "Minutes.", required=True),
            ],
            answers={200: json_answer("Free slots.", array(ref("Slot")))},
            errors=(403, 404, 422),
        )
    },
    "/help-requests": {
        "post": operation(
            "create_help_request",
            "Ask for help",
            tag="visits",
            description="Residents ask for themselves; team members and managers file for someone in their area.",
            body=ref("NewHelpRequest"),
            answers={201: json_answer("The new request.", ref("HelpRequest"))},
            errors=(403, 422),
        )
    },
    "/help-requests/{request_id}": {
        "get": operation(
            "get_help_request",
            "A help request",
            tag="visits",
            description="For the person who asked, the person it is for, and the team staff of its area: "
            "the request with the team's promise to call (`contact_by`); for the person it is for, "
            "the visits booked with the member who will come and their work phone.",
            parameters=[path("request_id", INTEGER, "The request's id.")],
            answers={200: json_answer("The request.", ref("HelpRequest"))},
            errors=(403, 404),
        ),
        "patch": operation(
            "change_help_request",
            "Cancel a help request, ask for another time, or record the team's call",
            tag="visits",
            description="By the person who asked (or the person it is for), while it is new or scheduled. "
            "`cancel` (optional `reason`) also cancels a visit booked for it that has not started "
            "(409 once a visit has started or the request is closed); `ask_another_time` (with "
            "`wish` and/or `date`) tells the team, and moves nothing. Another resident's request is "
            "404; the team staff get 403. The team records a call with `record_contact` (409 when "
            "the request is closed).",
            parameters=[path("request_id", INTEGER, "The request's id.")],
            body=ref("HelpRequestChange"),
            answers={200: json_answer("The request as it is now.", ref("HelpRequest"))},
            errors=(403, 404, 409, 422),
        ),
    },
    "/visits": {
        "get": operation(
            "list_visits",
            "Visits",
            tag="visits",
            description="Visits in the caller's area, optionally in `unit`, overlapping `from`–`to`.",
            parameters=[unit_query(), *FROM_TO],
            answers={200: json_answer("Visits.", array(ref("Visit")))},
            errors=(403, 404, 422),
        ),
        "post": operation(
            "book_visit",
            "Book a visit",
            tag="visits",
            description="Books a member for a help request or a resident. A time the member cannot take "
            f"answers 409 naming the rule ({_VISIT_TIME_RULES}); a commune manager may set those aside "
            "with `override` and an `override_reason`.",
            body=ref("NewVisit"),
            answers={201: json_answer("The visit.", ref("Visit"))},
            errors=(403, 409, 422),
        ),
    },
    "/visits/{visit_id}": {
        "patch": operation(
            "change_visit",
            "Move, cancel or close a visit",
            tag="visits",
            description="`action` is reschedule (with `start`, and `override` as for booking), cancel "
            "(with `reason`), no_show, or complete (with what was done, `milestones` reached and a "
            "`follow_up_reason`/`follow_up_due` when more help is needed).",
            parameters=[path("visit_id", INTEGER, "The visit's id.")],
            body=ref("VisitChange"),
            answers={200: json_answer("The visit as it is now.", ref("Visit"))},
            errors=(403, 404, 409, 422),
        )
    },
    "/sessions": {
        "get": operation(
            "list_sessions",
            "Upcoming group sessions",
            tag="visits",
            description="Sessions in the next year in the caller's area (or in `unit`), with places left.",
            parameters=[unit_query()],
            answers={200: json_answer("Sessions.", array(ref("GroupSession")))},
            errors=(403, 404),
        )
    },
    "/sessions/{session_id}/signups": {
        "post": operation(
            "sign_up_for_session",
            "Sign up for a session",
            tag="visits",
            description="Signs the caller up (no body), or a resident given by `user_id`.",
            parameters=[path("session_id", INTEGER, "The session's id.")],
            body=ref("NewSignup"),
            body_required=False,
            answers={201: json_answer("Signed up.", ref("Signup"))},
            errors=(403, 404, 409, 422),
        )
    },
    "/milestones": {
        "get": operation(
            "list_milestones",
            "Milestones",
            tag="outcomes",
            answers={200: json_answer("Milestones in use.", array(ref("Milestone")))},
        )
    },
    "/residents": {
        "get": operation(
            "list_residents",
            "Residents",
            tag="outcomes",
            description="Residents in the caller's area, optionally under `unit`, with or without `milestone`.",
            parameters=[
                unit_query(),
                query("milestone", STRING, "A milestone's key."),
                query(
                    "reached",
                    {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]},
                    "With `milestone`: those who reached it (true) or not (false).",
                ),
                query("page", {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}, "Page number."),
                query("per_page", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "Page size."),
            ],
            answers={200: json_answer("One page of residents.", ref("ResidentPage"))},
            errors=(403, 404, 422),
        ),
        "post": operation(
            "create_resident",
            "Add a resident",
            tag="privacy",
            description="A resident record in a village, on a legal basis (`state_task`, or `consent`: then a "
            "consent to `help_visits` is required), with the consents the person gave. Refused without a legal "
            "basis (422, field `legal_basis`). Team members and managers in the village's area.",
            body=NEW_RESIDENT,
            answers={201: json_answer("The new resident and their consents.", NEW_RESIDENT_ANSWER)},
            errors=(403, 422),
        ),
    },
    "/households/import": {
        "post": operation(
            "import_households",
            "Import a commune's households and residents",
            tag="privacy",
            description="The same import as the page, the rows as objects (a re-import matches on the codes and "
            "updates). The list states the legal basis its people are recorded on and, for consent, the consents "
            "and the evidence; without them it is refused before any row is read (422, field `legal_basis` or "
            "`evidence`). Any problem refuses the whole list: 422 with field `rows` and `problems` (each with "
            "its `row`, from 1). For whoever may import lists in the commune.",
            body=HOUSEHOLD_LIST,
            answers={
                200: json_answer(
                    "What was created and updated.",
                    obj(
                        {
                            "households_created": INTEGER,
                            "households_updated": INTEGER,
                            "residents_created": INTEGER,
                            "residents_updated": INTEGER,
                        }
                    ),
                )
            },
            errors=(403, 422),
        )
    },
    "/residents/{resident_id}/milestones": {
        "post": operation(
            "record_resident_milestone",
            "Record a milestone",
            tag="outcomes",
            parameters=[path("resident_id", INTEGER, "The resident's id.")],
            body=ref("NewMilestone"),
            answers={
                200: json_answer("Reached before; the evidence is kept.", ref("MilestoneRecorded")),
                201: json_answer("Newly reached.", ref("MilestoneRecorded")),
            },
            errors=(403, 404, 422),
        )
    },
    "/indicators": {
        "get": operation(
            "unit_indicators",
            "Indicators per child unit",
            tag="outcomes",
            description="Per child unit of `unit`: adults, residents reached, the share with each milestone "
            "and with basic digital skills (self-study and help counted apart).",
            parameters=[unit_query("A unit's code.", required=True)],
            answers={200: json_answer("One row per child unit.", array(ref("IndicatorRow")))},
            errors=(403, 404, 422),
        )
    },
    "/campaigns/{campaign_id}/walk-list": {
        "get": operation(
            "campaign_walk_list",
            "A campaign's walk list",
            tag="outcomes",
            description="A member gets their own list; the commune's managers any member's (`member_id`), "
            "or every member's when they give none.",
            parameters=[
                path("campaign_id", INTEGER, "The campaign's id."),
                query("member_id", ID, "One member's list."),
            ],
            answers={200: json_answer("The campaign and its households.", ref("WalkList"))},
            errors=(403, 404, 422),
        )
    },
    "/reports/completion": {
        "get": operation(
            "report_completion",
            "Course completion per child unit",
            tag="reports",
            parameters=[
                unit_query("A unit's code; the caller's commune or the province by default."),
                query("course", STRING, "Only this course (its slug)."),
                query("role", {"type": "string", "enum": ["cadre", "resident"]}, "Only these learners."),
                *REPORT_PERIOD,
                REPORT_FORMAT,
            ],
            answers={200: report_answer("Enrolments and completions.", ref("CompletionReport"))},
            errors=(403, 404, 422),
        )
    },
    "/reports/visits": {
        "get": operation(
            "report_visits",
            "Help requests and visits per child unit",
            tag="reports",
            parameters=[
                unit_query("A unit's code; the caller's commune or the province by default."),
                *REPORT_PERIOD,
                REPORT_FORMAT,
            ],
            answers={200: report_answer("Requests, visits, waits and ratings.", ref("VisitsReport"))},
            errors=(403, 404, 422),
        )
    },
    # ---- privacy: a person's data ----
    "/me/personal-data": {
        "get": operation(
            "my_personal_data_api",
            "Everything held about the caller",
            tag="privacy",
            description="The caller's account and the resident records linked to it, table by table as "
            "the personal-data register names them: their rows with readable values (course and milestone "
            "names, dates in ISO 8601).",
            answers={200: json_answer("The caller's personal data.", PERSONAL_DATA)},
        )
    },
    "/residents/{resident_id}/personal-data": {
        "get": operation(
            "resident_personal_data_api",
            "Everything held about a resident",
            tag="privacy",
            description="For a tech-team member or manager acting for residents in the resident's area "
            "(and the admin): the resident's record, and the account linked to it.",
            parameters=[path("resident_id", INTEGER, "The resident's id.")],
            answers={200: json_answer("The resident's personal data.", PERSONAL_DATA)},
            errors=(403, 404),
        )
    },
    # ---- privacy: residents and consents ----
    "/residents/{resident_id}/consents": {
        "post": operation(
            "give_resident_consent",
            "Record a resident's consent",
            tag="privacy",
            description="A consent (basis `consent`, with its channel) or another legal basis for one purpose, "
            "under the current privacy notice. 200 when the same is already in force (nothing changes); "
            "another basis ends the one in force. For staff acting for residents in their area.",
            parameters=[path("resident_id", INTEGER, "The resident's id.")],
            body=NEW_CONSENT,
            answers={
                201: json_answer("The consent recorded.", CONSENT),
                200: json_answer("The same consent, already in force.", CONSENT),
            },
            errors=(403, 404, 422),
        )
    },
    "/residents/{resident_id}/consents/{purpose}": {
        "delete": operation(
            "withdraw_resident_consent",
            "Withdraw a resident's consent",
            tag="privacy",
            description="Takes effect at once: reminders and messages for a withdrawn purpose stop, and those "
            "not yet sent are cancelled. 404 when no consent is in force for the purpose.",
            parameters=[
                path("resident_id", INTEGER, "The resident's id."),
                path("purpose", {"type": "string", "enum": list(PURPOSES)}, "The purpose."),
            ],
            answers={200: json_answer("The consent, withdrawn.", CONSENT)},
            errors=(403, 404, 422),
        )
    },
    # ---- privacy: who read whose record ----
    "/residents/{resident_id}/access-log": {
        "get": operation(
            "resident_access_log",
            "Who read a resident's record",
            tag="privacy",
            description="Every page, list, export and API answer that showed the resident (or the account "
            "linked to the record), newest first: who read it, when, how and where. For those who act "
            "for residents in the resident's area.",
            parameters=[
                path("resident_id", INTEGER, "The resident's id."),
                query("page", {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}, "Page number."),
                query("per_page", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "Page size."),
            ],
            answers={
                200: json_answer(
                    "One page of reads.",
                    obj(
                        {
                            "items": array(
                                obj(
                                    {
                                        "read_at": MOMENT,
                                        "reader": {
                                            "oneOf": [
                                                obj(
                                                    {
                                                        "id": INTEGER,
                                                        "name": STRING,
                                                        "role": {"type": "string", "enum": list(ROLES)},
                                                    }
                                                ),
                                                {"type": "null"},
                                            ],
                                            "description": "Who read it; null once that account is gone.",
                                        },
                                        "kind": {
                                            "type": "string",
                                            "enum": list(READ_KINDS),
                                        },
                                        "where": text("The page's endpoint or the API call that showed it."),
                                    }
                                )
                            ),
                            "page": INTEGER,
                            "per_page": INTEGER,
                            "total": INTEGER,
                        }
                    ),
                )
            },
            errors=(403, 404, 422),
        )
    },
    # ---- privacy: erasure ----
    "/residents/{resident_id}/erasure": {
        "post": operation(
            "erase_resident",
            "Erase a resident's data",
            tag="privacy",
            description="Removes or irreversibly anonymises every personal field of the resident (and of "
            "their account, when one is linked) in every table; keeps, cut from any name, what the "
            "province's figures need, and says why. The resident then answers 404 everywhere and "
            "appears in no list; the province's totals are unchanged. For the data-protection officer "
            "and the commune's manager.",
            parameters=[path("resident_id", INTEGER, "The resident's id.")],
            body=obj(
                {"reason": {"type": "string", "maxLength": 500, "description": "Why (e.g. the person's request)."}}
            ),
            answers={
                200: json_answer(
                    "What was erased and what was kept.",
                    obj(
                        {
                            "erased": array(obj({"table": STRING, "what": STRING})),
                            "kept": array(obj({"what": STRING, "why": STRING})),
                        }
                    ),
                )
            },
            errors=(403, 404, 409, 422),
        )
    },
    # ---- privacy: a person's requests, correction and restriction ----
    "/residents/{resident_id}/requests": {
        "get": operation(
            "resident_person_requests",
            "A resident's requests about their data",
            tag="privacy",
            description="The requests about the resident (and the account linked to the record), newest first, "
            "with their deadlines and whether they are late. For those who act for residents in the "
            "resident's area.",
            parameters=[path("resident_id", INTEGER, "The resident's id.")],
            answers={200: json_answer("The requests.", array(PERSON_REQUEST))},
            errors=(403, 404),
        ),
        "post": operation(
            "file_resident_request",
            "File a request for a resident",
            tag="privacy",
            description="Received now; its acknowledge-by and due days follow the law. 409 when a request of the "
            "same kind is already open for the person. For those who act for residents in the resident's area.",
            parameters=[path("resident_id", INTEGER, "The resident's id.")],
            body=NEW_PERSON_REQUEST,
            answers={201: json_answer("The request.", PERSON_REQUEST)},
            errors=(403, 404, 409, 422),
        ),
    },
    "/requests/{request_id}/acknowledge": {
        "post": operation(
            "acknowledge_person_request",
            "Acknowledge a person's request",
            tag="privacy",
            description="Records that the person was answered. 409 when it already was, or the request is "
            "closed. For the data-protection officer and the commune's manager.",
            parameters=[path("request_id", INTEGER, "The request's id.")],
            answers={200: json_answer("The request.", PERSON_REQUEST)},
            errors=(403, 404, 409),
        )
    },
    "/requests/{request_id}/close": {
        "post": operation(
            "close_person_request",
            "Close a person's request",
            tag="privacy",
            description="With its outcome (acknowledging it too, if that was not done); a refusal says why in "
            "`note`. 409 when it is closed already. For the data-protection officer and the commune's manager.",
            parameters=[path("request_id", INTEGER, "The request's id.")],
            body=CLOSE_PERSON_REQUEST,
            answers={200: json_answer("The request, closed.", PERSON_REQUEST)},
            errors=(403, 404, 409, 422),
        )
    },
    "/residents/{resident_id}": {
        "patch": operation(
            "correct_resident_record",
            "Correct a resident's record",
            tag="privacy",
            description="Only the fields sent change; each changed field is kept in the correction history "
            "(old and new value, when, by whom, and the person's open correction request it answers). Any "
            "bad value refuses the whole change (422, `field` names it). For those who act for residents "
            "in the resident's area.",
            parameters=[path("resident_id", INTEGER, "The resident's id.")],
            body=RESIDENT_CORRECTION,
            answers={200: json_answer("The resident and what changed.", CORRECTED_RESIDENT)},
            errors=(403, 404, 422),
        )
    },
    "/residents/{resident_id}/corrections": {
        "get": operation(
            "resident_corrections",
            "A resident's correction history",
            tag="privacy",
            description="Every correction to the resident's record and to the account linked to it, newest first.",
            parameters=[path("resident_id", INTEGER, "The resident's id.")],
            answers={200: json_answer("The corrections.", array(CORRECTION))},
            errors=(403, 404),
        )
    },
    "/residents/{resident_id}/restriction": {
        "put": operation(
            "restrict_resident_processing",
            "Restrict processing of a resident's data",
            tag="privacy",
            description="At the person's objection: their data stays, but no visit is booked or moved for them, "
            "no one else signs them up, no message goes to them, and they are left off walk lists and exports. "
            "Applies to the record and the account linked to it. 409 when it already is restricted.",
            parameters=[path("resident_id", INTEGER, "The resident's id.")],
            answers={200: json_answer("Restricted.", RESTRICTION)},
            errors=(403, 404, 409),
        ),
        "delete": operation(
            "lift_resident_restriction",
            "Lift the restriction of processing",
            tag="privacy",
            description="Everything is restored at once. 409 when processing is not restricted.",
            parameters=[path("resident_id", INTEGER, "The resident's id.")],
            answers={200: json_answer("Lifted.", RESTRICTION)},
            errors=(403, 404, 409),
        ),
    },
    "/openapi.json": {
        "get": operation(
            "openapi",
            "This document",
            tag="about",
            answers={200: json_answer("The OpenAPI 3.1 document.", {"type": "object"})},
            public=True,
        )
    },
    "/docs": {
        "get": operation(
            "docs",
            "This document as a page",
            tag="about",
            answers={200: {"description": "An HTML page.", "content": {"text/html": {"schema": {"type": "string"}}}}},
            public=True,
        )
    },
}

TAGS = [
    {"name": "auth", "description": "Tokens and the caller."},
    {"name": "units", "description": "The province's units."},
    {"name": "learning", "description": "Courses, lessons, quizzes, progress and certificates."},
    {"name": "visits", "description": "Teams, free slots, help requests, visits and group sessions."},
    {"name": "outcomes", "description": "Residents, milestones, indicators and campaigns."},
    {"name": "reports", "description": "Figures per unit, as JSON or CSV."},
    {
        "name": "privacy",
        "description": "Personal data: what is held about a person, legal bases and consents, "
        "who read a record, a person's requests, correction and restriction, erasure.",
    },
    {"name": "about", "description": "This contract."},
]

DESCRIPTION = """\
The province's other systems read and write through this API with a bearer token from
`POST /auth/token`. Every rule is the website's: the API refuses exactly what the pages refuse,
with the same message, in the caller's saved language (else `Accept-Language`).

Times are ISO 8601 with an offset; answers give them in Asia/Ho_Chi_Minh (+07:00). A time
without an offset is refused (422) rather than guessed. Errors are always
`{"error": {"code", "message", "field"?}}` with a 4xx status.
"""


def build_document() -> dict:
    """The whole OpenAPI 3.1 document (a fresh copy: callers may change it)."""
    return deepcopy(
        {
            "openapi": "3.1.0",
            "info": {"title": "Kỹ năng số API", "version": "1", "description": DESCRIPTION},
            "servers": [{"url": PREFIX}],
            "tags": TAGS,
            "security": [{"bearer": []}],
            "paths": OPERATIONS,
            "components": {
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "A token from POST /auth/token; it ends when it expires, when the "
                        "person signs out everywhere or changes their password, or when the account is "
                        "deactivated.",
                    }
                },
                "schemas": SCHEMAS,
                "responses": {
                    str(status): json_answer(description, ref("Error")) for status, description in ERRORS.items()
                },
            },
        }
    )
