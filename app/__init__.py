"""Kỹ năng số: digital-skills training and community tech-team support for a province."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import BASE_DIR, INSTANCE_DIR, load_config


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application. `overrides` replace settings read from the environment."""
    app = Flask(
        __name__,
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.config.update(load_config())
    if overrides:
        app.config.update(overrides)
    INSTANCE_DIR.mkdir(exist_ok=True)

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from app import input_guard

    # First: its check runs before every other request hook, its id converter serves every route.
    input_guard.register(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)

    from app import errors, security, templating
    from app.monitoring import hooks as monitoring

    errors.register(app)
    security.register(app)
    templating.register(app)
    # Logging (plain or JSON), the request id, request metrics, /healthz, /readyz and /metrics.
    monitoring.register(app)
    return app


def _init_extensions(app: Flask) -> None:
    from app.db import commit_if_read_only, configure_sqlite, render_item, track_writes
    from app.extensions import babel, csrf, db, limiter, login_manager
    from app.i18n import compile_translations, select_locale
    from app.schema import init_migrations

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_sqlite(engine)
            track_writes(engine)  # after configure_sqlite, whose BEGIN is not a write

    @app.teardown_request
    def end_read_only_transaction(error):
        commit_if_read_only(db.session(), error)

    init_migrations(
        app,
        db,
        directory=str(BASE_DIR / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    compile_translations(app.config["BABEL_TRANSLATION_DIRECTORIES"])
    babel.init_app(app, locale_selector=select_locale)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    # The lazy string is translated when the message is shown, in the visitor's language.
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please sign in to see this page.")

    from app.auth.operations import load_user_from_session_id

    login_manager.user_loader(load_user_from_session_id)

    # Import every model so metadata is complete for migrations and create_all in tests.
    import app.models


def _register_blueprints(app: Flask) -> None:
    # Each feature's blueprint lives alone in its blueprint.py; importing a route module
    # registers its views on it.
    from app.api import (  # noqa: F401
        auth,
        campaigns,
        docs,
        learning,
        messages,
        outcomes,
        privacy_access,
        privacy_consent,
        privacy_data,
        privacy_erasure,
        privacy_requests,
        reports,
        units,
        visits,
    )
    from app.api.blueprint import bp as api_bp
    from app.audit import routes as audit_routes  # noqa: F401
    from app.audit.blueprint import bp as audit_bp
    from app.auth import recovery_routes  # noqa: F401
    from app.auth import routes as auth_routes  # noqa: F401
    from app.auth.blueprint import bp as auth_bp
    from app.extensions import csrf
    from app.jobs import receipt_routes  # noqa: F401
    from app.jobs import routes as jobs_routes  # noqa: F401
    from app.jobs.blueprint import bp as jobs_bp
    from app.jobs.blueprint import hooks_bp
    from app.learning import assignment_routes, certificate_routes  # noqa: F401
    from app.learning import routes as learning_routes  # noqa: F401
    from app.learning.blueprint import bp as learning_bp
    from app.learning.blueprint import verify_bp
    from app.main import routes as main_routes  # noqa: F401
    from app.main.blueprint import bp as main_bp
    from app.outcomes import (  # noqa: F401
        campaign_routes,
        follow_up_routes,
        group_session_milestone_routes,
        import_routes,
        ledger_routes,
        resident_routes,
    )
    from app.outcomes.blueprint import bp as outcomes_bp
    from app.privacy import (  # noqa: F401
        access_routes,
        consent_routes,
        data_routes,
        erasure_routes,
        person_request_routes,
    )
    from app.privacy.blueprint import bp as privacy_bp
    from app.reports import dashboard_routes, message_cost_routes, print_routes, trend_routes  # noqa: F401
    from app.reports.blueprint import bp as reports_bp
    from app.units import routes as units_routes  # noqa: F401
    from app.units.blueprint import bp as units_bp
    from app.users import routes as users_routes  # noqa: F401
    from app.users.blueprint import bp as users_bp
    from app.visits import (  # noqa: F401
        calendar_routes,
        group_session_routes,
        request_routes,
        team_routes,
        visit_routes,
    )
    from app.visits.blueprint import bp as visits_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(users_bp)
    app.register_blueprint(units_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(learning_bp)
    app.register_blueprint(verify_bp)
    app.register_blueprint(visits_bp)
    app.register_blueprint(jobs_bp)
    # Providers' receipts are signed by the provider and carry no session, so CSRF does not apply.
    csrf.exempt(hooks_bp)
    app.register_blueprint(hooks_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(outcomes_bp)
    app.register_blueprint(privacy_bp)
    # The API authenticates with bearer tokens, never cookies, so CSRF does not apply to it.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)


def _register_cli(app: Flask) -> None:
    """The `flask` commands, each module imported when its command runs (app/schema.py)."""
    from app.schema import init_commands

    init_commands(
        app,
        {
            "units": "app.units.cli:units_cli",
            "demo": "app.demo.cli:demo_cli",
            "users": "app.users.cli:users_cli",
            "translations": "app.i18n_cli:translations_cli",
            "courses": "app.learning.cli:courses_cli",
            "reports": "app.reports.cli:reports_cli",
            "jobs": "app.jobs.cli:jobs_cli",
            "scheduler": "app.jobs.cli:scheduler_cli",
            "privacy": "app.privacy.cli:privacy_cli",
        },
    )
    # `flask db backup` joins Flask-Migrate's `db` group when that group is first asked for.
    load_migrate = app.cli.lazy.get("db")

    def load_db_commands() -> None:
        if load_migrate is not None:
            load_migrate()
        from app import backup_cli

        backup_cli.register()

    app.cli.lazy["db"] = load_db_commands
