"""The blueprint of the people pages alone; the route module registers on it."""

from flask import Blueprint

bp = Blueprint("users", __name__, url_prefix="/users")
