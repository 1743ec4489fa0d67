"""The blueprints of the learning pages alone; the route modules register on them."""

from flask import Blueprint

bp = Blueprint("learning", __name__, url_prefix="/learning")
#: The public certificate check, at /verify/<code> (no sign-in).
verify_bp = Blueprint("verify", __name__)
