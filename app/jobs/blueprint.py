"""The blueprint of the in-app notifications page alone; the route module registers on it."""

from flask import Blueprint

bp = Blueprint("jobs", __name__)
