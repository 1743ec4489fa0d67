"""The blueprints of the jobs package alone; the route modules register on them."""

from flask import Blueprint

bp = Blueprint("jobs", __name__)
#: Providers' delivery receipts, at /hooks/messages/<channel> (no sign-in, no CSRF: each receipt
#: is signed by its provider).
hooks_bp = Blueprint("hooks", __name__, url_prefix="/hooks")
