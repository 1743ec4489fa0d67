"""In-app notifications: the same messages the outbox e-mails."""

from flask import Blueprint

bp = Blueprint("jobs", __name__)
