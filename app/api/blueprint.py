"""The API's blueprint alone; the endpoint modules beside it register on it."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
