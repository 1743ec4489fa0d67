"""Certificate download and public verification."""

from flask import Response, abort, render_template
from flask_babel import get_locale
from flask_login import current_user, login_required

from app.learning import operations
from app.learning.blueprint import bp, verify_bp
from app.learning.certificates import render_certificate_pdf


@bp.route("/<slug>/certificate.pdf")
@login_required
def certificate_pdf(slug: str):
    course = operations.require_course(slug)
    certificate = operations.valid_certificate(current_user, course)
    if certificate is None:
        abort(404)
    pdf = render_certificate_pdf(certificate, lang=str(get_locale() or "vi"))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificate-{certificate.code}.pdf"'},
    )


@verify_bp.route("/verify/<code>")
def verify(code: str):
    certificate = operations.find_valid_certificate(code)
    return render_template("learning/verify.html", certificate=certificate, code=code[:32]), (
        200 if certificate else 404
    )
