"""The blueprint of the home page alone; the route module registers on it."""

from flask import Blueprint

bp = Blueprint("main", __name__)
