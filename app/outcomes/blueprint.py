"""The blueprint of the outcome pages alone; the route modules register on it."""

from flask import Blueprint

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes")
