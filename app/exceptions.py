"""The small family of errors that operations raise and views translate."""


class DomainError(Exception):
    """Base class: `message` is already translated and meant for the person."""

    status = 400
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}


class Invalid(DomainError):
    status = 422
    code = "invalid"


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"
