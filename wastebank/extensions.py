"""Unbound Flask extensions, bound to the app in ``create_app``. Imports third-party packages
only (the flask-smorest Api, configured with our error shape, lives in ``wastebank.api``)."""
from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Constraint names are fixed so that migrations are reproducible on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Brute-force protection on login. In-memory per process: enough for the embedded default; a
# city deployment sets WASTEBANK_RATELIMIT_STORAGE_URI=redis://… so all workers share counts.
limiter = Limiter(key_func=get_remote_address)  # storage: RATELIMIT_STORAGE_URI in config
