"""The app's commands and the database schema's version: command groups and Flask-Migrate set up
without importing them at start-up, and the check behind /readyz that the database stands at the
migrations' head.

Alembic and Flask-Migrate weigh about 11 MB in a process, and a web worker never migrates: they
are imported by the `flask db` commands and by the first use of app.extensions["migrate"]
(flask_migrate.upgrade() in the tests and `python run.py`), not by create_app().
"""

from __future__ import annotations

import ast
import importlib
from functools import cache
from pathlib import Path

from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from config import BASE_DIR

MIGRATIONS_DIR = BASE_DIR / "migrations"


class _LazyMigrateConfig:
    """Stands in app.extensions["migrate"] until something reads it; then Flask-Migrate is set up
    for the app (which puts its own config there) and the read is passed on to it."""

    def __init__(self, app: Flask, db, options: dict):
        self._app = app
        self._db = db
        self._options = options

    def load(self):
        if isinstance(self._app.extensions.get("migrate"), _LazyMigrateConfig):
            from flask_migrate import Migrate

            Migrate().init_app(self._app, self._db, **self._options)
        return self._app.extensions["migrate"]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.load(), name)


class LazyCommands(AppGroup):
    """The app's command groups, each imported when it is first asked for: a web worker never
    loads the commands (the demo generator, the scheduler and APScheduler, Flask-Migrate).
    `lazy` maps a command's name to "module:attribute" of its click group, or to a function that
    registers it."""

    def __init__(self, app: Flask, lazy: dict):
        super().__init__()
        self.app = app
        self.lazy = dict(lazy)

    def get_command(self, ctx, name):
        target = self.lazy.pop(name, None)
        if isinstance(target, str):
            module, _, attribute = target.partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        elif target is not None:
            target()
        return super().get_command(ctx, name)

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.lazy})


def init_commands(app: Flask, lazy: dict) -> None:
    """Put LazyCommands in place of the app's command group (keeping what it holds)."""
    commands = LazyCommands(app, lazy)
    migrate = app.extensions.get("migrate")
    if isinstance(migrate, _LazyMigrateConfig):
        commands.lazy["db"] = migrate.load
    for name, command in app.cli.commands.items():
        commands.add_command(command, name)
    app.cli = commands


def init_migrations(app: Flask, db, **options) -> None:
    """Flask-Migrate for `app`, imported when it is first used (`flask db` loads it too)."""
    migrate = _LazyMigrateConfig(app, db, options)
    app.extensions["migrate"] = migrate
    if isinstance(app.cli, LazyCommands):
        app.cli.lazy["db"] = migrate.load  # registers Flask-Migrate's `db` group


@cache
def migration_heads(directory: Path = MIGRATIONS_DIR) -> frozenset[str]:
    """The revisions no other migration builds on, read from the files' `revision` and
    `down_revision` assignments (without importing Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (directory / "versions").glob("*.py"):
        values = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                values[target.id] = ast.literal_eval(node.value)
        if "revision" not in values:
            continue
        revisions.add(values["revision"])
        down = values.get("down_revision")
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(down)
    return frozenset(revisions - parents)


def database_revisions(session) -> frozenset[str]:
    """The revisions the database is stamped at (empty when it has never been migrated)."""
    try:
        return frozenset(session.scalars(text("SELECT version_num FROM alembic_version")).all())
    except SQLAlchemyError:
        session.rollback()
        return frozenset()
