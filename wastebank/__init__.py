"""wastebank: point-of-sale and savings ledger for Indonesian waste banks (bank sampah)."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, has_request_context, request, session

from . import db_setup  # noqa: F401  (engine event listeners)
from .extensions import babel, csrf, db, limiter, login_manager, migrate


def _select_locale() -> str:
    if not has_request_context():
        return "id"
    lang = session.get("lang")
    if lang in ("id", "en"):
        return lang
    if request.path.startswith("/api/"):
        # Devices and scripts choose with Accept-Language; the UI stays Indonesian by default.
        return request.accept_languages.best_match(("id", "en"), default="id")
    return "id"


def _instance_secret(path: Path) -> str:
    """The instance's own random session key: read from ``path``, created (mode 0600) if absent."""
    import secrets

    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def is_loopback_url(url: str) -> bool:
    """True when ``url``'s host is this machine only (127.0.0.0/8, ``localhost``, ``::1``) or
    missing: a QR code with that address would open nothing on a member's phone."""
    import ipaddress
    from urllib.parse import urlsplit

    try:
        host = (urlsplit(str(url or "")).hostname or "").rstrip(".").lower()
    except ValueError:
        return True
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_public_base_url(app: Flask, config_cls, config_module) -> None:
    """Outside development and testing, a loopback ``PUBLIC_BASE_URL`` is logged as a warning
    at start-up and flagged (``PUBLIC_BASE_URL_UNREACHABLE``) for the admin's banner."""
    unreachable = (config_cls not in (config_module.DevelopmentConfig, config_module.TestingConfig)
                   and is_loopback_url(app.config.get("PUBLIC_BASE_URL", "")))
    app.config["PUBLIC_BASE_URL_UNREACHABLE"] = unreachable
    if unreachable:
        app.logger.warning(
            "PUBLIC_BASE_URL (WASTEBANK_PUBLIC_BASE_URL) is %r, a loopback address: the QR codes on "
            "receipts and member cards would point nowhere. Set it to the address members can reach.",
            app.config.get("PUBLIC_BASE_URL"))


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build the app: config → extensions → blueprints → CLI → error pages.

    ``config_name`` is ``development``, ``testing`` or ``production`` (default
    ``$WASTEBANK_CONFIG`` or development). Environment: ``DATABASE_URL``, ``SECRET_KEY`` and
    ``WASTEBANK_*`` override the class. Raises RuntimeError in production without SECRET_KEY.
    """
    import config as config_module

    app = Flask(__name__, instance_relative_config=True)
    from .inputs import BigIntConverter, RawSegmentConverter, TextSegmentConverter

    # Path segments obey the input rules too (inputs.py): ids past 2^63 and text with control
    # characters match no route (404).
    app.url_map.converters.update(int=BigIntConverter, default=TextSegmentConverter, string=TextSegmentConverter,
                                  raw=RawSegmentConverter)
    config_cls = config_module.load(config_name)
    app.config.from_object(config_cls)
    app.config.from_prefixed_env("WASTEBANK")
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if overrides:
        app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY") and config_cls is config_module.DevelopmentConfig:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set (environment variable SECRET_KEY)")
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "wastebank.sqlite")
    from .logs import configure_logging

    configure_logging(app)
    _check_public_base_url(app, config_cls, config_module)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     compare_type=True)
    login_manager.init_app(app)
    limiter.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    from .security import init_security
    init_security(app)

    from .auth import loaders  # noqa: F401
    from .auth import bp as auth_bp
    from .auth import views as _auth_views  # noqa: F401  (routes on the auth blueprint)
    from .counter import bp as counter_bp
    from .counter import offline as _counter_offline  # noqa: F401  (routes on the counter blueprint)
    from .counter import views as _counter_views  # noqa: F401
    from .counter import withdrawals as _counter_withdrawals  # noqa: F401
    from . import api as rest_api

    app.register_blueprint(auth_bp)
    app.register_blueprint(counter_bp)
    from .statements import bp as statements_bp, views as _statements_views  # noqa: F401
    from .statements import locks as _statements_locks  # noqa: F401  (month lock routes)
    from .statements import exports as _statements_exports  # noqa: F401
    app.register_blueprint(statements_bp)
    from .members import bp as members_bp, views as _members_views  # noqa: F401
    from .public import bp as public_bp, unit_page as _unit_page, views as _public_views  # noqa: F401
    from .public import notifications as _public_notifications  # noqa: F401  (residents stop messages)
    app.register_blueprint(members_bp)
    app.register_blueprint(public_bp)
    from .manager import bp as manager_bp, views as _manager_views  # noqa: F401
    from .manager import prices as _manager_prices  # noqa: F401  (routes on the manager blueprint)
    from .manager import notifications as _manager_notifications  # noqa: F401  (the message outbox)
    from .manager import containers as _manager_containers  # noqa: F401  (containers and their tare)
    app.register_blueprint(manager_bp)
    rest_api.init_app(app)

    from .cli import register as register_cli

    register_cli(app)
    _register_template_helpers(app)
    _register_error_pages(app)
    return app


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from .money import format_fee_bp, format_idr, format_quantity
    from .timeutil import format_local

    @app.context_processor
    def inject():
        return {"current_locale": str(get_locale() or "id")}

    app.jinja_env.filters["idr"] = lambda amount: format_idr(amount, get_locale())
    app.jinja_env.filters["qty"] = lambda milli, unit: format_quantity(milli, unit, get_locale())
    app.jinja_env.filters["local"] = format_local
    app.jinja_env.filters["fee"] = lambda bp: format_fee_bp(bp, get_locale())


def _register_error_pages(app: Flask) -> None:
    """Every error, page or API, is answered by the one handler in ``api/errors.py``."""
    from .api.errors import register_error_handlers

    register_error_handlers(app)
