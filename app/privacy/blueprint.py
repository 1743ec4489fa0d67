"""The blueprint of the privacy pages alone; the route modules register on it."""

from flask import Blueprint

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
