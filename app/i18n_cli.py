from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from flask import current_app
from flask.cli import AppGroup

from app.i18n import compile_translations
from config import BASE_DIR

translations_cli = AppGroup("translations", help="Message catalogs.")


@translations_cli.command("compile")
def compile_command():
    """Compile translations/*/LC_MESSAGES/messages.po (also done at start-up when needed)."""
    compiled = compile_translations(current_app.config["BABEL_TRANSLATION_DIRECTORIES"], force=True)
    click.echo(f"{len(compiled)} catalog(s) compiled.")


@translations_cli.command("update")
def update_command():
    """Extract the messages from the code and templates and merge them into every catalog."""
    translations = Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])
    template = translations / "messages.pot"
    babel = CommandLineInterface()
    babel.run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(BASE_DIR / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "lazy_ngettext:1,2",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(template),
            str(BASE_DIR),
        ]
    )
    babel.run(
        [
            "pybabel",
            "-q",
            "update",
            "-i",
            str(template),
            "-d",
            str(translations),
            "--no-fuzzy-matching",
            "--ignore-obsolete",
        ]
    )
    click.echo("Catalogs updated; translate the new empty entries in vi and bn.")
