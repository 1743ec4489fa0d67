"""The words of personal-data law the platform speaks: why it holds data (purposes), on what legal
basis, and how a consent was given (channels).

Every personal field in the register (app/privacy/register.py) names one purpose and one basis
from here; consents are given per purpose. The keys are stored; the titles are shown.
"""

from flask_babel import lazy_gettext as _l

#: Why personal data is held. A consent is given or withdrawn for one purpose at a time.
PURPOSES = {
    "account": _l("Running the person's account and signing in"),
    "learning": _l("Digital-skills courses, quizzes and certificates"),
    "help_visits": _l("Receiving help from the community tech team (requests and visits)"),
    "messages": _l("Reminders and messages"),
    "progress_sharing": _l("Sharing learning progress and milestones with the commune"),
    "outcomes": _l("Recording digital-inclusion milestones for the province's targets"),
    "security": _l("Keeping the platform secure (sign-in records and the audit log)"),
    "team_work": _l("Organising the tech teams' work: hours, visits and the members' ledger"),
    "consent_records": _l("Keeping the record of each person's consents and the legal basis of their data"),
    "data_requests": _l("Answering a person's requests about their own data, and honouring them"),
}

#: The legal bases of Law 91/2025/QH15 the platform relies on.
LEGAL_BASES = {
    "consent": _l("The person's consent"),
    "state_task": _l("A task of a state agency (the province's digital-transformation programme)"),
    "legal_obligation": _l("A legal obligation"),
    "contract": _l("An agreement with the person (a team member's work)"),
    "vital_interest": _l("Protecting someone's life or health in an emergency"),
}

#: How a consent reached the platform.
CONSENT_CHANNELS = {
    "online": _l("Given online by the person"),
    "assisted": _l("Recorded by a team member with the person present"),
    "paper": _l("Signed on a paper form, kept by the commune"),
}

#: Personal data in the law's two kinds.
DATA_KINDS = {
    "basic": _l("Basic personal data"),
    "sensitive": _l("Sensitive personal data"),
}

#: The version of the privacy notice (app/templates/privacy/notice.html) people are shown now.
#: Change it with the notice's text: every consent records the version it was given under.
NOTICE_VERSION = "2026-12"

#: The purposes a person is asked about, one unticked box each, in the order they are asked.
CONSENT_PURPOSES = ("help_visits", "messages", "progress_sharing")

#: The basis each purpose rests on unless a record says otherwise.
DEFAULT_BASES = {
    "account": "consent",
    "learning": "consent",
    "help_visits": "state_task",
    "messages": "consent",
    "progress_sharing": "consent",
    "outcomes": "state_task",
    "security": "legal_obligation",
    "team_work": "contract",
    "consent_records": "legal_obligation",
    "data_requests": "legal_obligation",
}

#: The bases a resident's record (and an imported list) may be held on.
RECORD_BASES = ("state_task", "consent")
