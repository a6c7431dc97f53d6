"""Authentication (sessions and bearer tokens) and the one shared permission mechanism."""
