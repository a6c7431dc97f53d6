"""Where a message goes: a sender takes ``(phone, text)`` and either returns or raises
:class:`SendError` with a reason for people (stored in ``notification.last_error``).

``sender_from_config(config)`` picks one by ``NOTIFY_SENDER``: ``log`` (the default; writes the
message to the ``wastebank.notifications`` log, for development) or ``http`` (a generic HTTP
gateway for Indonesian WhatsApp/SMS services, configured by ``NOTIFY_URL``, ``NOTIFY_TOKEN``,
``NOTIFY_TOKEN_HEADER``, ``NOTIFY_TOKEN_PREFIX``, ``NOTIFY_TEMPLATE``, ``NOTIFY_BODY_FORMAT`` and
``NOTIFY_TIMEOUT_SECONDS``; see docs/notifications.md).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Protocol

import requests

log = logging.getLogger("wastebank.notifications")

#: How much of a gateway's error answer is kept as the reason.
MAX_REASON = 300


class SendError(Exception):
    """The gateway did not take the message; ``str(exc)`` is the reason (at most 300 chars)."""


class Sender(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Deliver ``text`` to ``phone`` (E.164, ``+62…``) or raise SendError."""


class LogSender:
    """Development: logs each message (INFO) and keeps the last ones in ``sent`` for tests."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        log.info("notification to %s: %s", phone, text)
        self.sent.append((phone, text))


def fill_template(template: Any, phone: str, text: str) -> Any:
    """``template`` (a JSON object, or its text) with ``{phone}``, ``{phone_digits}`` and
    ``{text}`` replaced inside every string, keys included. Substituting after parsing keeps the
    JSON valid whatever the text holds (quotes, newlines). Raises ValueError for a template
    that is not JSON."""
    if isinstance(template, str):
        template = json.loads(template)
    values = {"{phone}": phone, "{phone_digits}": "".join(c for c in phone if c.isdigit()), "{text}": text}

    def fill(node: Any) -> Any:
        if isinstance(node, str):
            for placeholder, value in values.items():
                node = node.replace(placeholder, value)
            return node
        if isinstance(node, dict):
            return {fill(k): fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        return node

    return fill(template)


class HttpSender:
    """POST to a gateway: ``url``; ``token`` sent as ``<token_header>: <token_prefix><token>``
    (e.g. ``Authorization: Bearer …``; Fonnte and Wablas take the bare token: prefix ``""``);
    the body is ``template`` filled (:func:`fill_template`) and sent as JSON or as a form
    (``body_format`` ``json``/``form``). Any 2xx answer is success; another status, a timeout
    after ``timeout`` seconds or a connection error raises SendError with the reason."""

    def __init__(self, url: str, token: str = "", *, template: Any = None, token_header: str = "Authorization",
                 token_prefix: str = "Bearer ", body_format: str = "json", timeout: float = 10) -> None:
        if not url:
            raise ValueError("NOTIFY_URL is empty: the http sender needs the gateway's address")
        if body_format not in ("json", "form"):
            raise ValueError(f"NOTIFY_BODY_FORMAT must be json or form, not {body_format!r}")
        self.url, self.token, self.timeout = url, str(token or ""), float(timeout)
        self.template = json.loads(template) if isinstance(template, str) else (template or {})
        if not isinstance(self.template, dict):
            raise ValueError("NOTIFY_TEMPLATE must be a JSON object")
        self.token_header, self.token_prefix, self.body_format = token_header, token_prefix, body_format

    def send(self, phone: str, text: str) -> None:
        body = fill_template(self.template, phone, text)
        headers = {self.token_header: f"{self.token_prefix}{self.token}"} if self.token else {}
        payload = {"json": body} if self.body_format == "json" else {"data": body}
        try:
            answer = requests.post(self.url, headers=headers, timeout=self.timeout, **payload)
        except requests.Timeout:
            raise SendError(f"timeout after {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise SendError(f"connection error: {exc.__class__.__name__}: {exc}"[:MAX_REASON]) from None
        if not 200 <= answer.status_code < 300:
            raise SendError(f"HTTP {answer.status_code}: {answer.text.strip()}"[:MAX_REASON])


def sender_from_config(config) -> Sender:
    """The sender ``config["NOTIFY_SENDER"]`` names. Raises ValueError for an unknown name or
    an http sender without a URL or with a bad template."""
    name = str(config.get("NOTIFY_SENDER", "log") or "log").lower()
    if name == "log":
        return LogSender()
    if name == "http":
        return HttpSender(config.get("NOTIFY_URL", ""), config.get("NOTIFY_TOKEN", ""),
                          template=config.get("NOTIFY_TEMPLATE"),
                          token_header=config.get("NOTIFY_TOKEN_HEADER", "Authorization"),
                          token_prefix=config.get("NOTIFY_TOKEN_PREFIX", "Bearer "),
                          body_format=config.get("NOTIFY_BODY_FORMAT", "json"),
                          timeout=config.get("NOTIFY_TIMEOUT_SECONDS", 10))
    raise ValueError(f"NOTIFY_SENDER must be log or http, not {name!r}")
