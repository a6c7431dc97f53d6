"""Sending the notification outbox (issue 12 item 1; docs/notifications.md).

``senders`` — where a message goes (``LogSender`` for development, ``HttpSender`` for a
WhatsApp/SMS gateway); ``drain`` — ``send_pending``, the drainer with claims, retries,
backoff and the per-member rate limit; ``cli`` — ``flask --app wastebank notify send|list``.
Queueing happens in ``services.notifications``, inside the money's transaction.
"""
