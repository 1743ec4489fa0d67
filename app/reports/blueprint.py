"""The blueprint of the management pages alone; the route modules register on it."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
