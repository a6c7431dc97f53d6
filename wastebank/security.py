"""HTTP security headers on every response (Flask-Talisman; rules in docs/security.md).

- ``Content-Security-Policy`` (``CONTENT_SECURITY_POLICY``): scripts, workers, fetches, images,
  fonts and forms from this origin only; no inline script and no ``eval`` (every script is a
  file under ``static/``; ``<script type="application/json">`` data blocks are not executed and
  so are allowed); ``frame-ancestors 'none'``; no plugins. Inline *styles* stay allowed: a
  style cannot run code, and templates and server-drawn SVG charts use ``style=`` attributes.
- ``X-Frame-Options: DENY`` (what ``frame-ancestors`` says, for older browsers),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (a view that sends a
  stricter one itself, such as the resident's ``/c/<token>`` page with ``no-referrer``, keeps
  it), ``Permissions-Policy`` (camera for this origin only: the card scanner).
- Under ``FORCE_HTTPS`` (``WASTEBANK_CONFIG=production``): plain HTTP is redirected to HTTPS and
  HTTPS answers carry ``Strict-Transport-Security`` (one year, subdomains). Behind a proxy that
  ends TLS, the proxy must send ``X-Forwarded-Proto: https``. Development and tests use HTTP.
"""
from __future__ import annotations

from flask import Flask, request
from flask_talisman import Talisman

# One origin for everything. 'self' in worker-src is the service worker (/sw.js); data: and
# blob: images are canvas snapshots and QR previews; the camera stream is a MediaStream
# (srcObject), which needs no media-src.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "manifest-src": "'self'",
    "media-src": "'self' blob:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

PERMISSIONS_POLICY = {
    "camera": "(self)",
    "microphone": "()",
    "geolocation": "()",
    "payment": "()",
    "usb": "()",
    "browsing-topics": "()",
}

REFERRER_POLICY = "same-origin"


class SecurityHeaders(Talisman):
    """Talisman, except that a ``Referrer-Policy`` the view already set is kept (Talisman
    overwrites it, and per-view options do not cover it)."""

    def _set_referrer_policy_headers(self, headers):
        headers.setdefault("Referrer-Policy", self.referrer_policy)

    def _parse_policy(self, policy):
        """The header text of a Content-Security-Policy. Talisman rebuilds it for every
        response (and asks for a CSP nonce once per directive); the app's own policy carries no
        nonce, so its text is built once (issue 13: about 2 % of a deposit's Python calls). A
        view's own policy, or a request with a nonce, still takes Talisman's way. (Talisman
        builds the Permissions-Policy with another method, not through this one.)"""
        if policy is self.content_security_policy and not hasattr(request, "csp_nonce"):
            text = self.__dict__.get("_wb_policy_text")
            if text is None:
                text = self.__dict__["_wb_policy_text"] = super()._parse_policy(policy)
            return text
        return super()._parse_policy(policy)


def init_security(app: Flask) -> SecurityHeaders:
    """Bind the security headers to ``app`` (one instance per app: Talisman keeps its options
    and app on itself) and return it. Reads ``FORCE_HTTPS`` (redirect to HTTPS and send HSTS;
    True only in ProductionConfig), the session cookie settings already in the config, which
    Talisman would otherwise overwrite, and ``PROXY_COUNT``: behind that many trusted reverse
    proxies, the client address, scheme and host come from their ``X-Forwarded-*`` headers
    (werkzeug's ProxyFix), so that rate limits count per client and HTTPS is recognised."""
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    force_https = bool(app.config.get("FORCE_HTTPS"))
    headers = SecurityHeaders()
    headers.init_app(
        app,
        content_security_policy=CONTENT_SECURITY_POLICY,
        permissions_policy=PERMISSIONS_POLICY,
        referrer_policy=REFERRER_POLICY,
        frame_options="DENY",
        x_content_type_options=True,
        force_https=force_https,
        strict_transport_security=force_https,
        session_cookie_secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
        session_cookie_http_only=True,
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
    )
    app.extensions["security_headers"] = headers
    return headers
