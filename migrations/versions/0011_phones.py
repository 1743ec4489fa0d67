"""phones: stored numbers rewritten in E.164 where they can be read

Revision ID: 0011_phones
Revises: 0010_erasure
Create Date: 2026-12-06 23:10:00.000000

"""
from alembic import op
import phonenumbers
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_phones'
down_revision = '0010_erasure'
branch_labels = None
depends_on = None

TABLES = ('users', 'residents', 'help_requests')


def _e164(value):
    """The number in E.164 when it reads as a valid one (local numbers as Vietnamese), else None."""
    text = (value or '').strip()
    if not text:
        return None
    for candidate, region in ((text, 'VN'), ('+' + text, None)):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def upgrade():
    connection = op.get_bind()
    for name in TABLES:
        table = sa.table(name, sa.column('id', sa.Integer()), sa.column('phone', sa.String(32)))
        rows = connection.execute(sa.select(table.c.id, table.c.phone).where(table.c.phone.is_not(None))).all()
        for row_id, phone in rows:
            e164 = _e164(phone)
            if e164 is not None and e164 != phone:
                connection.execute(sa.update(table).where(table.c.id == row_id).values(phone=e164))


def downgrade():
    # The E.164 form is a valid phone number too: nothing to undo.
    pass
