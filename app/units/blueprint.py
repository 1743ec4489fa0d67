"""The blueprint of the unit tree pages alone; the route module registers on it."""

from flask import Blueprint

bp = Blueprint("units", __name__, url_prefix="/units")
