import click
from flask import current_app
from flask.cli import AppGroup

from app.i18n import compile_translations

translations_cli = AppGroup("translations", help="Message catalogs.")


@translations_cli.command("compile")
def compile_command():
    """Compile translations/*/LC_MESSAGES/messages.po (also done at start-up when needed)."""
    compiled = compile_translations(current_app.config["BABEL_TRANSLATION_DIRECTORIES"], force=True)
    click.echo(f"{len(compiled)} catalog(s) compiled.")
