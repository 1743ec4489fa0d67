import sys

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _

from app.audit.operations import record
from app.demo.generate import default_password, generate
from app.demo.operations import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from app.extensions import db

demo_cli = AppGroup("demo", help="The fictional demo province.")


@demo_cli.command("seed")
def seed_command():
    """Load the demo province and demo accounts into an empty database."""
    if not seed_demo():
        click.echo(_("The database already holds data; nothing was added."))
        return
    db.session.commit()
    click.echo(_("Demo data loaded. Sign in with (password %(password)s):", password=DEMO_PASSWORD))
    for username, _role in DEMO_ACCOUNTS:
        click.echo(f"  {username}")


@demo_cli.command("generate")
@click.option("--learners", type=click.IntRange(1, 9_999_999), required=True, help="Learners to add.")
@click.option("--visits", type=click.IntRange(min=0), default=None, help="Visits to add (default: learners / 5).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the random generator.")
@click.option("--password", default=None, help="Password of every generated account (default: a random one).")
def generate_command(learners: int, visits: int | None, seed: int, password: str | None):
    """Fill the database with synthetic data for load and benchmark work (marked "gen")."""
    if current_app.config.get("ENV_NAME") == "production":
        click.echo(_("Refusing to generate synthetic people in a production database."), err=True)
        sys.exit(1)
    result = generate(learners, visits, seed=seed, password=password or default_password(), echo=click.echo)
    record("demo_generated", details={"learners": learners, "visits": result.counts.get("visits", 0), "seed": seed})
    db.session.commit()
    click.echo(_("Rows written:"))
    for table, count in sorted(result.counts.items()):
        click.echo(f"  {table:<22} {count:>12,}")
    click.echo(_("Timings:"))
    for step, seconds in result.timings.items():
        click.echo(f"  {step:<22} {seconds:>10.1f} s")
    click.echo(_("Generated accounts (gen_…) sign in with the password %(password)s", password=result.password))
