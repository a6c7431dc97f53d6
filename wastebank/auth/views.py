"""Login, logout, language switch and password change."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, limiter
from ..models import User
from ..services.transaction import run_in_transaction
from .forms import LoginForm, PasswordForm
from .passwords import check_login, check_password, hash_password
from .tokens import end_all_sessions, live_tokens, revoke_token

from . import bp


def _safe_next(target: str | None) -> str | None:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return None


# Failed logins allowed (docs/security.md): per address and username, so that one guesser
# behind a collection point's shared address does not lock out every tablet there; and per
# address across usernames, so that trying many usernames from one place is limited too.
LOGIN_LIMIT_PER_USERNAME = "10 per minute"
LOGIN_LIMIT_PER_ADDRESS = "20 per minute;100 per hour"


def _login_attempt_key() -> str:
    """The rate-limit key of a login attempt: address and (normalised) username."""
    from flask_limiter.util import get_remote_address

    return f"{get_remote_address()}|{(request.form.get('username') or '').strip().lower()[:80]}"


def _failed_login(response) -> bool:
    """Only failed attempts count: a successful login answers with a redirect."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_USERNAME, methods=["POST"], key_func=_login_attempt_key,
               deduct_when=_failed_login)
@limiter.limit(LOGIN_LIMIT_PER_ADDRESS, methods=["POST"], scope="login-address",
               deduct_when=_failed_login)
def login():
    """Log in with username and password; unknown and inactive users are refused with the same
    message after the same argon2 work (``check_login``), so neither shows in the timing."""
    if current_user.is_authenticated:
        return redirect(url_for("counter.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if check_login(user.password_hash if user is not None else None, form.password.data) \
                and user.active:
            login_user(user)
            session.permanent = False
            return redirect(_safe_next(request.args.get("next")) or url_for("counter.home"))
        flash(_("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out everywhere: every session and bearer token of this user ends."""
    user = current_user._get_current_object()
    run_in_transaction(lambda: end_all_sessions(user))
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's password; every other session and token ends."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not check_password(current_user.password_hash, form.current.data):
            form.current.errors.append(_("Wrong password."))
        else:
            user = current_user._get_current_object()
            new_hash = hash_password(form.new.data)  # argon2 work once, outside any retry

            def change() -> None:
                user.password_hash = new_hash
                end_all_sessions(user)

            run_in_transaction(change)
            login_user(user)
            flash(_("Password changed. Other devices are logged out."), "info")
            return redirect(url_for("counter.home"))
    return render_template("auth/password.html", form=form)


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the interface language (``id`` or ``en``) for this browser session."""
    if code in ("id", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")) or url_for("counter.home"))


@bp.route("/account/tokens")
@login_required
def tokens():
    """The user's live bearer and device tokens (label, issued, last used, expires), each
    revocable; an admin also sees everyone's (docs/tokens.md)."""
    from flask_wtf import FlaskForm

    from .permissions import has_permission

    is_admin = has_permission(current_user, "admin")
    mine = live_tokens(current_user)
    others = [t for t in live_tokens() if t.user_id != current_user.id] if is_admin else []
    return render_template("auth/tokens.html", mine=mine, others=others, is_admin=is_admin, form=FlaskForm())


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def token_revoke(token_id: int):
    """Revoke one token at once (audited). Another user's token is 404 unless the admin asks."""
    from flask_wtf import FlaskForm

    from ..services.errors import NotFound
    from .permissions import has_permission

    if not FlaskForm().validate_on_submit():
        abort(400)
    by, any_user = current_user._get_current_object(), has_permission(current_user, "admin")
    try:
        row = run_in_transaction(lambda: revoke_token(token_id, by=by, any_user=any_user))
    except NotFound:
        abort(404)
    own = row.user_id == by.id
    flash(_("Token revoked: it no longer works on any device.") if own
          else _("Token revoked for %(user)s.", user=row.user.username), "info")
    return redirect(url_for("auth.tokens"))
