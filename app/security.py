"""Headers every response carries."""

from flask import Flask, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


#: Answers that are the same for everyone and say so in their own Cache-Control: static files and
#: the pictures and recordings of courses.
PUBLIC_ENDPOINTS = frozenset({"static", "learning.course_media"})


def register(app: Flask) -> None:
    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # Pages for a signed-in person, and every API answer, may hold personal data: never
        # keep them in a shared or browser cache.
        # is_anonymous, not is_authenticated: the latter reads the user's row, which a view that
        # committed has expired, and would load it again just for this header.
        if request.endpoint not in PUBLIC_ENDPOINTS and (
            request.path.startswith("/api/") or not current_user.is_anonymous
        ):
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
