"""Certificate download and public verification."""

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.exceptions import Invalid
from app.learning import operations
from app.learning.blueprint import bp, verify_bp


@bp.route("/<slug>/certificate.pdf")
@login_required
def certificate_pdf(slug: str):
    course = operations.require_course(slug)
    certificate = operations.valid_certificate(current_user, course)
    if certificate is None:
        abort(404)
    # The PDF stack (fpdf2, HarfBuzz, fontTools, Pillow, segno) weighs about 40 MB: it is loaded
    # by the first download, not by every worker at start-up.
    from app.learning.certificates import render_certificate_pdf

    pdf = render_certificate_pdf(certificate, lang=str(get_locale() or "vi"))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificate-{certificate.code}.pdf"'},
    )


@verify_bp.route("/verify")
def verify_form():
    """The box to type a certificate's code in; a code that names a valid certificate leads to
    its check at /verify/<code>, any other is answered on the form."""
    typed = request.args.get("code", "")
    if not typed.strip():
        return render_template("learning/verify_form.html", code="", error=None)
    try:
        code = operations.read_certificate_code(typed)
    except Invalid as error:
        return render_template("learning/verify_form.html", code=typed[:40], error=error.message), 400
    certificate = operations.find_valid_certificate(code)
    if certificate is not None:
        return redirect(url_for("verify.verify", code=certificate.code))
    error = _("No valid certificate has the code %(code)s.", code=code)
    return render_template("learning/verify_form.html", code=code, error=error), 404


@verify_bp.route("/verify/<code>")
def verify(code: str):
    certificate = operations.find_valid_certificate(code)
    return render_template("learning/verify.html", certificate=certificate, code=code[:32]), (
        200 if certificate else 404
    )
