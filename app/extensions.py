"""Flask extensions, created unbound and attached to the app in create_app() (Flask-Migrate is set
up there too, by app.schema, without being imported until a migration runs)."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from app.db import Base

# create_savepoint lets tests wrap each test in an outer transaction; with an engine bind (the
# normal case) it changes nothing.
db = SQLAlchemy(model_class=Base, session_options={"join_transaction_mode": "create_savepoint"})
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
