"""The home page of each role and the text-size preference (the health checks are in app/monitoring)."""

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import authz
from app.auth.forms import EmptyForm
from app.auth.routes import is_safe_next
from app.i18n import remember_language_switch
from app.learning.assignments import assignments_for
from app.main.blueprint import bp
from app.reports.charts import bar_chart
from app.reports.overview import headline_figures, skills_by_area
from app.reports.queries import indicators_table
from app.units.operations import area_unit

# Pages a person with a one-time password may still open.
_OPEN_WITH_ONE_TIME_PASSWORD = {
    "auth.change_password",
    "auth.logout",
    "static",
    "monitoring.healthz",
    "monitoring.readyz",
    "main.text_size",
}


@bp.before_app_request
def apply_language_switch():
    lang = request.args.get("lang")
    if lang and lang in current_app.config["LANGUAGES"]:
        remember_language_switch(lang, current_user if current_user.is_authenticated else None)


@bp.before_app_request
def require_own_password():
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and not request.path.startswith("/api/")
        and request.endpoint not in _OPEN_WITH_ONE_TIME_PASSWORD
    ):
        return redirect(url_for("auth.change_password"))
    return None


@bp.route("/")
@login_required
def home():
    overview_unit = figures = comparison = chart = None
    if authz.has_permission(current_user, "reports.view"):
        overview_unit = area_unit(current_user, None, permission="reports.view")
        indicators = indicators_table(overview_unit)
        figures = headline_figures(overview_unit, indicators=indicators)
        comparison = skills_by_area(overview_unit, indicators)
        if comparison:
            chart = bar_chart(
                [(name, share) for _rank, name, share in comparison.rows],
                title=comparison.title,
                chart_id="skills-chart",
                description=_("One bar per area, best first, as in the table beside it."),
            )
    return render_template(
        "main/home.html",
        assigned=assignments_for(current_user),
        overview_unit=overview_unit,
        figures=figures,
        comparison=comparison,
        comparison_chart=chart,
    )


@bp.route("/preferences/text-size", methods=["POST"])
def text_size():
    form = EmptyForm()
    if form.validate_on_submit():
        session["large_text"] = not session.get("large_text", False)
    target = request.form.get("next", "")
    return redirect(target if is_safe_next(target) else url_for("main.home"))
