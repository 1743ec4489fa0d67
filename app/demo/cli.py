import click
from flask.cli import AppGroup

from app.demo.operations import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from app.extensions import db

demo_cli = AppGroup("demo", help="The fictional demo province.")


@demo_cli.command("seed")
def seed_command():
    """Load the demo province and demo accounts into an empty database."""
    if not seed_demo():
        click.echo("The database already holds data; nothing was added.")
        return
    db.session.commit()
    click.echo("Demo data loaded. Sign in with (password " + DEMO_PASSWORD + "):")
    for username, _role in DEMO_ACCOUNTS:
        click.echo(f"  {username}")
