"""Gunicorn's settings, read from the folder it starts in (its default file name), so the app
nodes of deploy/systemd/kynangso-app@.service and every benchmark start the same way.

The master imports the libraries every page needs before it starts its workers, and the workers
share those pages of memory instead of each loading its own copy (per worker, the memory the
machine really gives it — PSS — went from 90 MB to about 70 MB; bench/worker_memory.py). The
app itself is still imported by each worker, so a reload (SIGHUP) serves new code; a new version
of a library needs the node restarted (deploy/README.md says how, one node at a time).

The garbage collector is paused in the master and its objects frozen before each fork, so a
worker's collections never write to (and so copy) the pages it shares with the master.
"""

import gc

# Imported for the workers to share, not used here.
import babel.dates
import babel.numbers  # noqa: F401
import flask  # noqa: F401
import flask_babel  # noqa: F401
import flask_limiter  # noqa: F401
import flask_login  # noqa: F401
import flask_sqlalchemy  # noqa: F401
import flask_wtf  # noqa: F401
import jinja2  # noqa: F401
import prometheus_client  # noqa: F401
import psycopg  # noqa: F401
import redis  # noqa: F401
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.sqlite
import sqlalchemy.orm  # noqa: F401
import werkzeug  # noqa: F401
import wtforms  # noqa: F401

gc.disable()


def pre_fork(server, worker):
    gc.freeze()


def post_fork(server, worker):
    gc.enable()
