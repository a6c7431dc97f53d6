"""Configuration classes for wastebank.

`create_app()` picks one by name (``WASTEBANK_CONFIG`` or the argument) and then applies
environment overrides: ``DATABASE_URL``, ``SECRET_KEY`` and any ``WASTEBANK_*`` variable
(``WASTEBANK_TIMEZONE=Asia/Makassar`` sets ``TIMEZONE``), via Flask's ``from_prefixed_env``.
"""
from __future__ import annotations

import os


class Config:
    """Settings shared by every environment."""

    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # default: SQLite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # Deployment time zone: days and months are bucketed here (SPEC §3 "Time").
    TIMEZONE = "Asia/Jakarta"
    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"
    LANGUAGES = ("id", "en")
    # Base URL printed in QR codes (receipt verification, member cards).
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    # Default per-line maximum for a category without its own, in thousandths (500 kg).
    DEFAULT_LINE_MAX_MILLI = 500_000
    # Jakarta counts a member as active with at least this many deposits in a month (SPEC §3).
    ACTIVE_MEMBER_MIN_DEPOSITS = 4
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = 8 * 3600  # a whole counter shift
    # Rate limit counters (login, resident pages): per process by default; a deployment with
    # several workers sets WASTEBANK_RATELIMIT_STORAGE_URI=redis://… so that all share them.
    # If that storage is down, each worker counts in memory meanwhile instead of failing.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # A moving window: no double burst across a minute's edge (a fixed window allows 2× there).
    RATELIMIT_STRATEGY = "moving-window"
    # Redirect HTTP to HTTPS and send HSTS (wastebank/security.py); production only.
    FORCE_HTTPS = False
    # Reverse proxies in front that set X-Forwarded-For/-Proto (1 behind one nginx); 0 trusts
    # none. Rate limits count per client address, which is the proxy's without this.
    PROXY_COUNT = 0
    # Bearer and device tokens end after this many days without use; a use is written (and
    # the expiry moved) at most once per API_TOKEN_TOUCH_SECONDS (docs/tokens.md).
    API_TOKEN_IDLE_DAYS = 30
    API_TOKEN_TOUCH_SECONDS = 3600
    API_TITLE = "wastebank API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # Notifications to members' phones (docs/notifications.md). NOTIFY_SENDER is "log" (writes
    # each message to the log: development) or "http" (a WhatsApp/SMS gateway: POST to
    # NOTIFY_URL with NOTIFY_TOKEN in the NOTIFY_TOKEN_HEADER header, the body built from
    # NOTIFY_TEMPLATE, a JSON object whose strings may hold {phone}, {phone_digits} and {text};
    # NOTIFY_BODY_FORMAT "json" or "form"). Retries back off exponentially from
    # NOTIFY_RETRY_SECONDS; after NOTIFY_MAX_ATTEMPTS a message is failed. At most
    # NOTIFY_MEMBER_PER_HOUR messages per member per hour go out; the rest wait.
    NOTIFY_SENDER = "log"
    NOTIFY_URL = ""
    NOTIFY_TOKEN = ""
    NOTIFY_TOKEN_HEADER = "Authorization"
    NOTIFY_TOKEN_PREFIX = "Bearer "
    NOTIFY_TEMPLATE = '{"phone": "{phone}", "message": "{text}"}'
    NOTIFY_BODY_FORMAT = "json"
    NOTIFY_TIMEOUT_SECONDS = 10
    NOTIFY_MAX_ATTEMPTS = 6
    NOTIFY_RETRY_SECONDS = 60
    NOTIFY_MEMBER_PER_HOUR = 5
    NOTIFY_BATCH = 100


class DevelopmentConfig(Config):
    """Local development and the demo (the default). Without SECRET_KEY, a random key is made
    once and kept in the instance folder (``instance/secret_key``), so no two installs share
    one and sessions survive restarts."""

    DEBUG = False


class TestingConfig(Config):
    """pytest: CSRF stays on (tests fetch the token like a browser), fast password hashing."""

    TESTING = True
    SECRET_KEY = "test-only-not-secret"
    RATELIMIT_ENABLED = False  # tests log in many times from 127.0.0.1; one test turns it on
    ARGON2_FAST = True


class ProductionConfig(Config):
    """City-scale deployment behind HTTPS; refuses to start without SECRET_KEY."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    FORCE_HTTPS = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load(name: str | None = None) -> type[Config]:
    """Return the config class called ``name`` (default: ``$WASTEBANK_CONFIG`` or development).

    Raises KeyError for an unknown name.
    """
    return CONFIGS[name or os.environ.get("WASTEBANK_CONFIG", "development")]
