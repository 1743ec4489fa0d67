"""The blueprint of the tech teams' pages alone; the route modules register on it."""

from flask import Blueprint

bp = Blueprint("visits", __name__, url_prefix="/visits")
