"""JSON API v1."""


def register(app):
    """Register the API blueprints on ``app``."""
