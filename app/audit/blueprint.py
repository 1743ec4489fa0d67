"""The blueprint of the audit log page alone; the route module registers on it."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
