"""The small family of errors that operations raise.

Views do not translate them by hand: one error handler (app.errors) turns each into a page or a
JSON error with its status. A view catches only the errors it can show next to a form field.
"""


class DomainError(Exception):
    """Base class: `message` is already translated and meant for the person.

    `status` is the API's answer; `page_status` the web page's (a page shows a refused form
    with 400, where the API says 422 for a value it could read but not accept).
    """

    status = 400
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}

    @property
    def page_status(self) -> int:
        return 400 if self.status == 422 else self.status


class Invalid(DomainError):
    status = 422
    code = "invalid"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
