"""WTForms' own messages ("Not a valid integer value." …) come in the person's language, and a
message about a row or a field names it as the person knows it."""

from __future__ import annotations

import html

from flask_wtf import FlaskForm
from wtforms import Form

import app as app_package
from app.forms import AppForm, SubForm
from tests.test_translations import load_catalog


def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


def test_every_form_of_the_site_takes_its_messages_from_our_catalogs(app):
    ours = [cls for cls in subclasses(Form) if cls.__module__.startswith(app_package.__name__ + ".")]
    assert len(ours) > 30
    strays = [
        f"{cls.__module__}.{cls.__name__}"
        for cls in ours
        if cls not in (AppForm, SubForm) and not issubclass(cls, (AppForm, SubForm))
    ]
    assert not strays, "derive from app.forms.AppForm (or SubForm), not FlaskForm or wtforms.Form"
    assert issubclass(AppForm, FlaskForm)


def test_every_wtforms_message_has_a_translation():
    from babel.messages.pofile import read_po
    from wtforms.i18n import messages_path

    with open(f"{messages_path()}/wtforms.pot", "rb") as pot:
        theirs = [m.id[0] if isinstance(m.id, tuple) else m.id for m in read_po(pot) if m.id]
    for lang in ("vi", "bn"):
        catalog = load_catalog(lang)
        missing = [msgid for msgid in theirs if catalog.get(msgid) is None or not all(
            catalog.get(msgid).string if isinstance(catalog.get(msgid).string, tuple) else [catalog.get(msgid).string]
        )]
        assert not missing, (lang, missing)


def test_a_number_and_a_date_typed_wrong_are_told_in_vietnamese(client, login_as, make_user, units):
    login_as(make_user("commune_manager", units["c1"]))
    response = client.get("/visits/slots?from=2026-13-45&days=abc&lang=vi")
    text = html.unescape(response.get_data(as_text=True))
    assert "Ngày không hợp lệ." in text
    assert "Hãy nhập một số nguyên." in text
    assert "Not a valid" not in text

    response = client.get("/visits/slots?from=2026-13-45&days=abc&lang=bn")
    text = html.unescape(response.get_data(as_text=True))
    assert "তারিখটি বৈধ নয়।" in text and "Not a valid" not in text


def test_a_household_list_names_the_column_by_what_it_holds(app):
    with app.test_request_context("/?lang=vi"):
        from app.outcomes.residents import column_title

        assert column_title("full_name") == "Họ và tên (cột full_name)"
