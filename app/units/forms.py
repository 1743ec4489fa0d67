from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField

from app.forms import AppForm


class UnitImportForm(AppForm):
    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(_l("Choose a CSV file.")),
            FileAllowed(["csv"], _l("The file must be a .csv file.")),
        ],
        description=_l("Columns: code, name, kind, parent_code, population (optional: name_en, name_bn)."),
    )
    submit = SubmitField(_l("Import"))
