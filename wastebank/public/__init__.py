"""Resident self-service at /c/<token>: no login, the card's token is the key (issue 3)."""
