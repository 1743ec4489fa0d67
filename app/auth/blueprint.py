"""The blueprint of signing in and out and the account pages alone; the route module registers on it."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
