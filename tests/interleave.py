"""Interleavings for the concurrency tests: run another transaction, committed, at a chosen
point of a deposit (after its reads, before its first write)."""
from __future__ import annotations

import threading

from wastebank.services import deposits as deposits_service


def in_thread(action):
    """Run ``action`` in another thread and wait for it; re-raise what it raised."""
    errors: list[BaseException] = []

    def run():
        try:
            action()
        except BaseException as exc:  # pragma: no cover - re-raised below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    if errors:
        raise errors[0]


def after_quote(monkeypatch, *actions):
    """Run ``actions`` one after the other in other threads, committed, right after the first
    deposit priced its lines (its reads done, the key looked up; before its first write)."""
    calls: list[int] = []
    original = deposits_service.quote_deposit

    def quote_then_interfere(*args, **kwargs):
        quote = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            for action in actions:
                in_thread(action)
        return quote

    monkeypatch.setattr(deposits_service, "quote_deposit", quote_then_interfere)
    return calls
