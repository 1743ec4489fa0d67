"""The form of the erasure pages."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from app.forms import AppForm
from app.privacy.erasure import MAX_REASON


class ErasureForm(AppForm):
    reason = TextAreaField(
        _l("Why is the data erased?"),
        validators=[
            InputRequired(_l("Say why the data is erased (e.g. the person's request).")),
            Length(max=MAX_REASON),
        ],
        description=_l("For example: the person asked on 3 March. Do not write the person's name."),
    )
    confirm = BooleanField(
        _l("I understand that this cannot be undone."),
        validators=[InputRequired(_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Erase the data"))
